package hosttest_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// A valid push while streams are held: the held streams finish on the old
// configuration's timing (its root keeps ticking until they drain), new
// requests use the new configuration.
func TestPush_validWhilePaused(t *testing.T) {
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			h := newNedry(t, `{"tick": "5ms", "rules": [{"name": "old", "delay": {"percent": 100, "fixed": "100ms"}}]}`,
				hosttest.Options{Workers: workers})
			var held []*hosttest.Stream
			for i := 0; i < 2*workers; i++ {
				s := h.Start(get("GET", "/"))
				if !s.Paused() {
					t.Fatalf("stream %d not held by the old config", i)
				}
				held = append(held, s)
			}
			h.Advance(40 * time.Millisecond)
			if err := h.Reconfigure([]byte(`{"tick": "10ms", "rules": [{"name": "new", "delay": {"percent": 100, "fixed": "300ms"}}]}`)); err != nil {
				t.Fatalf("Reconfigure: %v", err)
			}
			fresh := h.Start(get("GET", "/"))
			if !fresh.Paused() {
				t.Fatal("a new request is not held by the new config")
			}
			h.Advance(60 * time.Millisecond)
			for i, s := range held {
				r := s.Result()
				if !s.Done() || r.Held != 100*time.Millisecond || r.Upstream == nil || r.Header("x-nedry-fault") != "old; delay" {
					t.Fatalf("old stream %d: have done %v, held %v, tag %q; want done after 100ms with the old tag",
						i, s.Done(), r.Held, r.Header("x-nedry-fault"))
				}
			}
			if !fresh.Paused() {
				t.Fatal("the new request was released with the old timing")
			}
			h.Advance(240 * time.Millisecond)
			r := fresh.Result()
			if !fresh.Done() || r.Held != 300*time.Millisecond || r.Header("x-nedry-fault") != "new; delay" {
				t.Fatalf("new stream: have done %v, held %v, tag %q; want 300ms and the new tag", fresh.Done(), r.Held, r.Header("x-nedry-fault"))
			}
			wantMetrics(t, h, map[string]int64{"nedry.rule.old.delays_injected": int64(2 * workers), "nedry.rule.new.delays_injected": 1,
				"nedry.config_rejected": 0})
			settled(t, h)
			noTrap(t, h)
			// Later requests keep working on the new root once the old
			// one is gone.
			if r, _ := run(h, get("GET", "/")); r.Held != 300*time.Millisecond {
				t.Fatalf("after the old root drained: held %v, want 300ms", r.Held)
			}
			settled(t, h)
		})
	}
}

// A refused push changes nothing: the *PushError carries every problem, the
// refusal is counted, and the old configuration keeps serving, including
// the streams it holds.
func TestPush_invalidRefused(t *testing.T) {
	h := newNedry(t, `{"tick": "5ms", "rules": [{"name": "keep", "delay": {"percent": 100, "fixed": "50ms"}, "abort": {"percent": 100, "http_status": 418}}]}`,
		hosttest.Options{Workers: 2})
	held := h.Start(get("GET", "/"))
	err := h.Reconfigure([]byte(invalidConfig))
	var pe *hosttest.PushError
	if !errors.As(err, &pe) {
		t.Fatalf("Reconfigure: have %v, want a *PushError", err)
	}
	if pe.Stage != "validation" || pe.Trap != nil {
		t.Fatalf("have stage %q, trap %v", pe.Stage, pe.Trap)
	}
	if have := logsAt(pe.Logs, hosttest.LogLevelError); fmt.Sprintf("%q", have) != fmt.Sprintf("%q", invalidConfigErrors) {
		t.Fatalf("error logs:\nhave %q\nwant %q", have, invalidConfigErrors)
	}
	wantMetrics(t, h, map[string]int64{"nedry.config_rejected": 1})
	h.Advance(50 * time.Millisecond)
	if r := held.Result(); !held.Done() || r.Held != 50*time.Millisecond || r.Response.Status != 418 {
		t.Fatalf("held stream: done %v, held %v, response %+v", held.Done(), r.Held, r.Response)
	}
	for i := 0; i < 4; i++ {
		r, _ := run(h, get("GET", "/"))
		if r.LocalReply == nil || r.LocalReply.Status != 418 || r.Held != 50*time.Millisecond {
			t.Fatalf("request %d after the refused push: reply %+v, held %v; want the old config", i, r.LocalReply, r.Held)
		}
	}
	// A second refusal counts again.
	if err := h.Reconfigure([]byte(`{"rules": 1}`)); err == nil {
		t.Fatal("a second invalid push was accepted")
	}
	wantMetrics(t, h, map[string]int64{"nedry.config_rejected": 2, "nedry.rule.keep.aborts_injected": 5})
	settled(t, h)
	noTrap(t, h)
}

// Pushes while streams of several generations are held: each finishes on
// its own configuration, none is lost.
func TestPush_manyGenerations(t *testing.T) {
	h := newNedry(t, `{"tick": "1ms", "rules": [{"name": "g0", "delay": {"percent": 100, "fixed": "100ms"}}]}`, hosttest.Options{})
	var streams []*hosttest.Stream
	for g := 0; g < 5; g++ {
		if g > 0 {
			cfg := fmt.Sprintf(`{"tick": "1ms", "rules": [{"name": "g%d", "delay": {"percent": 100, "fixed": "%dms"}}]}`, g, 100+10*g)
			if err := h.Reconfigure([]byte(cfg)); err != nil {
				t.Fatalf("push %d: %v", g, err)
			}
		}
		streams = append(streams, h.Start(get("GET", "/")))
		h.Advance(time.Millisecond)
	}
	h.Advance(time.Second)
	for g, s := range streams {
		r := s.Result()
		want := time.Duration(100+10*g) * time.Millisecond
		if !s.Done() || r.Held != want || r.Header("x-nedry-fault") != fmt.Sprintf("g%d; delay", g) {
			t.Fatalf("generation %d: done %v, held %v (want %v), tag %q", g, s.Done(), r.Held, want, r.Header("x-nedry-fault"))
		}
	}
	settled(t, h)
	noTrap(t, h)
}

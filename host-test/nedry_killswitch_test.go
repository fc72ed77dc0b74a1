package hosttest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// killSwitch is the runbook's "stop all faults now".
const killSwitch = `{"enabled": false}`

// The kill switch releases every stream a delay holds, in every worker and
// under every older root, at the push: each goes upstream untouched, the
// abort or corruption it was delayed for never comes, and the gauge is back
// to 0 before the next tick.
func TestKillSwitch_releasesHeldStreams(t *testing.T) {
	// Generation 0 holds request-phase delays followed by an abort, and
	// response-phase delays followed by response corruption; generation 1
	// (a normal push, which leaves generation 0's streams held) holds
	// request-phase delays followed by a reset.
	gens := []string{
		`{"tick": "5ms", "rules": [
		  {"name": "req", "match": {"prefix": "/req"}, "delay": {"percent": 100, "fixed": "1h"}, "abort": {"percent": 100, "http_status": 503}},
		  {"name": "resp", "match": {"prefix": "/resp"}, "delay": {"percent": 100, "fixed": "1h", "phase": "response"},
		   "corrupt": {"percent": 100, "response": [{"op": "status", "value": "502"}]}}]}`,
		`{"tick": "7ms", "rules": [{"name": "again", "delay": {"percent": 100, "fixed": "1h"}, "reset": {"percent": 100}}]}`,
	}
	type held struct {
		s   *hosttest.Stream
		tag string
	}
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			h := newNedry(t, gens[0], hosttest.Options{Workers: workers})
			var streams []held
			for g, cfg := range gens {
				if g > 0 {
					if err := h.Reconfigure([]byte(cfg)); err != nil {
						t.Fatalf("push %d: %v", g, err)
					}
				}
				for w := 0; w < workers; w++ {
					for _, p := range []struct{ path, tag string }{{"/req", "req; delay"}, {"/resp", "resp; delay"}} {
						req := get("GET", p.path)
						req.Worker, req.WorkerSet = w, true
						tag := p.tag
						if g == 1 {
							tag = "again; delay"
						}
						streams = append(streams, held{h.Start(req), tag})
					}
				}
				h.Advance(time.Minute)
			}
			for i, st := range streams {
				if !st.s.Paused() {
					t.Fatalf("stream %d (%s) is not held before the kill switch", i, st.tag)
				}
			}
			wantMetrics(t, h, map[string]int64{"nedry.active_faults": int64(4 * workers)})
			if err := h.Reconfigure([]byte(killSwitch)); err != nil {
				t.Fatalf("kill switch: %v", err)
			}
			if n := h.PausedStreams(); n != 0 {
				t.Fatalf("paused streams right after the kill switch: have %d, want 0", n)
			}
			wantMetrics(t, h, map[string]int64{"nedry.active_faults": 0})
			h.Advance(7 * time.Millisecond) // one tick of the slowest root
			h.Advance(2 * time.Hour)        // the delays would have ended
			for i, st := range streams {
				r := st.s.Result()
				if !st.s.Done() || r.Reset || r.LocalReply != nil || r.Upstream == nil || r.Response == nil ||
					r.Response.Status != 200 || string(r.Response.Body) != "ok" || r.Header("x-nedry-fault") != st.tag {
					t.Fatalf("stream %d: done %v, reset %v (%s), local reply %+v, reached upstream %v, response %+v; "+
						"want released to the upstream, a 200 with tag %q", i, st.s.Done(), r.Reset, r.ResetBy, r.LocalReply,
						r.Upstream != nil, r.Response, st.tag)
				}
				if want := time.Minute * time.Duration(len(gens)-i/(2*workers)); r.Held != want {
					t.Fatalf("stream %d: held %v, want %v (until the push)", i, r.Held, want)
				}
			}
			wantMetrics(t, h, map[string]int64{"nedry.rule.req.aborts_injected": 0, "nedry.rule.resp.corruptions_injected": 0,
				"nedry.rule.again.resets_injected": 0, "nedry.rule.req.delays_injected": int64(workers),
				"nedry.errors": 0})
			if n := logsWith(h.Logs(), hosttest.LogLevelInfo, "nedry: kill switch: released "); n != workers {
				t.Fatalf("kill switch log lines: have %d, want one per worker", n)
			}
			settled(t, h)
			noTrap(t, h)
		})
	}
}

// Streams that the kill switch finds past their request headers, on their
// way upstream, inject nothing at response headers: neither the
// response-phase delay nor the corruption they drew.
func TestKillSwitch_stopsStreamsUpstream(t *testing.T) {
	h := newNedry(t, `{"rules": [{"name": "r", "delay": {"percent": 100, "fixed": "1h", "phase": "response"},
	  "corrupt": {"percent": 100, "response": [{"op": "status", "value": "502"}]}}]}`, hosttest.Options{})
	req := get("GET", "/")
	req.Upstream = func(context.Context, *hosttest.UpstreamRequest) (*hosttest.Response, error) {
		if err := h.Reconfigure([]byte(killSwitch)); err != nil {
			return nil, err
		}
		return &hosttest.Response{Status: 200, Body: []byte("ok")}, nil
	}
	s := h.Start(req)
	if !s.Done() {
		t.Fatal("the stream was held after the kill switch")
	}
	r := s.Result()
	if r.Held != 0 || r.Response == nil || r.Response.Status != 200 || r.Header("x-nedry-fault") != "" {
		t.Fatalf("have held %v, response %+v; want a 200 untouched, untagged", r.Held, r.Response)
	}
	wantMetrics(t, h, with(ruleMetrics("r"), "nedry.rule.r.matched", 1, "nedry.errors", 0))
	settled(t, h)
	noTrap(t, h)
}

// A header-controlled delay is released like a rule's, and its abort never
// comes; a push that turns faults back on afterwards applies to new
// requests only.
func TestKillSwitch_headerControlAndBackOn(t *testing.T) {
	const on = `{"tick": "5ms", "header_control": {"enabled": true}}`
	h := newNedry(t, on, hosttest.Options{})
	s := h.Start(get("GET", "/", "x-nedry-delay-ms", "3600000", "x-nedry-abort", "503"))
	if !s.Paused() {
		t.Fatal("the header-controlled delay did not hold the stream")
	}
	if err := h.Reconfigure([]byte(`{"enabled": false, "header_control": {"enabled": true}}`)); err != nil {
		t.Fatalf("kill switch: %v", err)
	}
	if err := h.Reconfigure([]byte(on)); err != nil {
		t.Fatalf("back on: %v", err)
	}
	h.Advance(2 * time.Hour)
	if r := s.Result(); !s.Done() || r.LocalReply != nil || r.Upstream == nil || r.Header("x-nedry-fault") != "header_control; delay" {
		t.Fatalf("released stream: done %v, reply %+v, upstream %v, tag %q", s.Done(), r.LocalReply, r.Upstream != nil, r.Header("x-nedry-fault"))
	}
	if r, _ := run(h, get("GET", "/", "x-nedry-abort", "418")); r.LocalReply == nil || r.LocalReply.Status != 418 {
		t.Fatalf("a new request after faults are back on: reply %+v, want the 418", r.LocalReply)
	}
	wantMetrics(t, h, map[string]int64{"nedry.header_control.delays_injected": 1, "nedry.header_control.aborts_injected": 1})
	settled(t, h)
	noTrap(t, h)
}

// logsWith counts the logs at level that start with prefix.
func logsWith(logs []hosttest.LogEntry, level hosttest.LogLevel, prefix string) int {
	n := 0
	for _, m := range logsAt(logs, level) {
		if len(m) >= len(prefix) && m[:len(prefix)] == prefix {
			n++
		}
	}
	return n
}

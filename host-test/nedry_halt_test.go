package hosttest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// upstreamStatus answers every request with status.
func upstreamStatus(status int) func(context.Context, *hosttest.UpstreamRequest) (*hosttest.Response, error) {
	return func(context.Context, *hosttest.UpstreamRequest) (*hosttest.Response, error) {
		return &hosttest.Response{Status: status}, nil
	}
}

// countAborts sends n requests to worker w and returns how many Nedry
// aborted.
func countAborts(h *hosttest.Host, w, n int, upstream func(context.Context, *hosttest.UpstreamRequest) (*hosttest.Response, error)) int {
	aborts := 0
	for i := 0; i < n; i++ {
		req := get("GET", "/pay")
		req.Worker, req.WorkerSet, req.Upstream = w, true, upstream
		if r := h.Do(req); r.LocalReply != nil {
			aborts++
		}
	}
	return aborts
}

const haltConfig = `{"seed": 5, "rules": [{"name": "pay", "match": {"prefix": "/pay"},
  "abort": {"percent": 20, "http_status": 503},
  "halt": {"max_error_percent": 10, "window": "10s", "min_requests": 20, "cooldown": "1m"}}]}`

// Control requests failing on one worker halt the rule on every worker
// within one tick, for the cooldown; then it resumes. One error log line
// says why, the counter and the gauge show it.
func TestHalt_errorsAcrossWorkers(t *testing.T) {
	h := newNedry(t, haltConfig, hosttest.Options{Workers: 2, Start: at(t, "2026-06-05T10:00:00Z")})
	// Worker 0: the upstream fails every control request.
	if n := countAborts(h, 0, 40, upstreamStatus(500)); n == 0 {
		t.Fatal("no abort before the halt")
	}
	if n := countAborts(h, 1, 50, upstreamStatus(200)); n == 0 {
		t.Fatal("worker 1 injected nothing before any tick")
	}
	h.Advance(time.Second) // the ticks merge and decide
	wantMetrics(t, h, map[string]int64{"nedry.rule.pay.halts": 1, "nedry.rule.pay.halted": 1})
	for w := 0; w < 2; w++ {
		if n := countAborts(h, w, 100, upstreamStatus(200)); n != 0 {
			t.Fatalf("worker %d: %d aborts while halted", w, n)
		}
	}
	var lines []string
	for _, l := range h.Logs() {
		if l.Level == hosttest.LogLevelError {
			lines = append(lines, l.Message)
		}
	}
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "nedry: rule pay: halted for 1m0s: error share ") ||
		!strings.Contains(lines[0], " control requests over 10s, above 10%") {
		t.Fatalf("error logs %q", lines)
	}
	r, _ := run(h, get("GET", "/pay"))
	if r.FilterState["wasm.nedry"] != "pay; halted" {
		t.Fatalf("filter state while halted: %v", r.FilterState)
	}
	// After the cooldown the rule injects again on both workers.
	h.Advance(time.Minute + time.Second)
	wantMetrics(t, h, map[string]int64{"nedry.rule.pay.halted": 0, "nedry.rule.pay.halts": 1})
	for w := 0; w < 2; w++ {
		if n := countAborts(h, w, 100, upstreamStatus(200)); n == 0 {
			t.Fatalf("worker %d: no abort after the cooldown", w)
		}
	}
	noTrap(t, h)
}

// A healthy control group never halts; fewer than min_requests control
// requests never halt either.
func TestHalt_notTripped(t *testing.T) {
	h := newNedry(t, haltConfig, hosttest.Options{Workers: 2})
	countAborts(h, 0, 100, upstreamStatus(200))
	countAborts(h, 1, 4, upstreamStatus(500)) // at most 4 control errors of ~84
	h.Advance(2 * time.Second)
	h2 := newNedry(t, haltConfig, hosttest.Options{})
	countAborts(h2, 0, 20, upstreamStatus(500)) // ~16 control requests < 20
	h2.Advance(2 * time.Second)
	for _, hh := range []*hosttest.Host{h, h2} {
		wantMetrics(t, hh, map[string]int64{"nedry.rule.pay.halts": 0, "nedry.rule.pay.halted": 0})
	}
}

// Slow control requests halt a rule with max_slow_percent; a push clears
// the halt at once.
func TestHalt_slowAndPushClears(t *testing.T) {
	cfg := `{"seed": 5, "rules": [{"name": "pay", "match": {"prefix": "/pay"},
	  "abort": {"percent": 20}, "halt": {"max_slow_percent": 50, "slow": "1s", "window": "1m", "min_requests": 10}}]}`
	h := newNedry(t, cfg, hosttest.Options{})
	for i := 0; i < 20; i++ {
		req := get("GET", "/pay")
		req.UpstreamLatency = 1500 * time.Millisecond
		h.Do(req)
	}
	h.Advance(time.Second)
	wantMetrics(t, h, map[string]int64{"nedry.rule.pay.halts": 1, "nedry.rule.pay.halted": 1})
	if n := countAborts(h, 0, 50, upstreamStatus(200)); n != 0 {
		t.Fatalf("%d aborts while halted", n)
	}
	if err := h.Reconfigure([]byte(cfg)); err != nil {
		t.Fatal(err)
	}
	wantMetrics(t, h, map[string]int64{"nedry.rule.pay.halted": 0})
	if n := countAborts(h, 0, 50, upstreamStatus(200)); n == 0 {
		t.Fatal("a push did not clear the halt")
	}
	noTrap(t, h)
}

// A halt lets go of the streams the rule's delays hold within one tick.
func TestHalt_releasesHeld(t *testing.T) {
	cfg := `{"seed": 5, "tick": "5ms", "rules": [{"name": "pay", "match": {"prefix": "/pay"},
	  "delay": {"percent": 30, "fixed": "1h"}, "halt": {"max_error_percent": 10, "min_requests": 10}}]}`
	h := newNedry(t, cfg, hosttest.Options{})
	var held []*hosttest.Stream
	for i := 0; i < 40; i++ {
		req := get("GET", "/pay")
		req.Upstream = upstreamStatus(503)
		if s := h.Start(req); !s.Done() {
			held = append(held, s)
		}
	}
	if len(held) == 0 {
		t.Fatal("nothing held")
	}
	h.Advance(300 * time.Millisecond)
	for _, s := range held {
		if !s.Done() {
			t.Fatal("a held stream is still held after the halt")
		}
	}
	wantMetrics(t, h, map[string]int64{"nedry.rule.pay.halts": 1})
	settled(t, h)
}

// The halt's log line names the rate a ramp had reached: the breaking point.
func TestHalt_breakingPoint(t *testing.T) {
	cfg := `{"seed": 5, "rules": [{"name": "pay", "match": {"prefix": "/pay"},
	  "abort": {"percent": 10, "ramp": {"to": 50, "over": "4m", "steps": 4}},
	  "halt": {"max_error_percent": 10, "min_requests": 20, "window": "30s"}}]}`
	h := newNedry(t, cfg, hosttest.Options{})
	h.Advance(2 * time.Minute) // 30%
	countAborts(h, 0, 60, upstreamStatus(502))
	h.Advance(time.Second)
	found := false
	for _, l := range h.Logs() {
		found = found || l.Level == hosttest.LogLevelError && strings.HasSuffix(l.Message, "; abort rate at halt 30%")
	}
	if !found {
		t.Fatalf("no halt line ending in the ramp's rate: %v", logsAt(h.Logs(), hosttest.LogLevelError))
	}
}

// A control request of a guarded rule costs only the host calls its
// guardrail needs over those of an unguarded rule's request: the response
// :status when errors count, two clock reads when slowness counts.
func TestHalt_controlRequestCalls(t *testing.T) {
	const rule = `{"rules": [{"name": "pay", "match": {"prefix": "/pay"}, "abort": {"percent": 0}%s}]}`
	calls := func(t *testing.T, halt string) uint64 {
		h := newNedry(t, strings.Replace(rule, "%s", halt, 1), hosttest.Options{})
		run(h, get("GET", "/pay")) // warm up
		before := h.HostCalls()
		for i := 0; i < 20; i++ {
			run(h, get("GET", "/pay"))
		}
		return (h.HostCalls() - before) / 20
	}
	plain := calls(t, "")
	tests := []struct {
		name, halt string
		extra      uint64
	}{
		{"errors", `, "halt": {"max_error_percent": 5}`, 1},
		{"slow", `, "halt": {"max_slow_percent": 5, "slow": "1s"}`, 2},
		{"both", `, "halt": {"max_error_percent": 5, "max_slow_percent": 5, "slow": "1s"}`, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if have := calls(t, tc.halt); have != plain+tc.extra {
				t.Fatalf("%d host calls per control request, want %d (%d without a guardrail + %d)", have, plain+tc.extra, plain, tc.extra)
			}
		})
	}
}

// Control requests whose responses come in another order than their
// requests are each counted once, and a stream let go at its response
// headers leaves the others alone: three overlapping failing control
// requests answered last-started first, with a matched request of another
// rule in flight, halt the rule on the count of three.
func TestHalt_overlappingControlRequests(t *testing.T) {
	cfg := `{"seed": 5, "rules": [
	  {"name": "pay", "match": {"prefix": "/pay"}, "abort": {"percent": 0},
	   "halt": {"max_error_percent": 50, "window": "10s", "min_requests": 3, "cooldown": "1m"}},
	  {"name": "other", "match": {"prefix": "/other"}, "abort": {"percent": 0}}]}`
	h := newNedry(t, cfg, hosttest.Options{})
	var streams []*hosttest.Stream
	for i, path := range []string{"/pay", "/other", "/pay", "/pay"} {
		req := get("GET", path)
		req.Upstream = upstreamStatus(503)
		req.UpstreamLatency = time.Duration(40-10*i) * time.Millisecond
		streams = append(streams, h.Start(req))
	}
	h.Advance(50 * time.Millisecond)
	for i, s := range streams {
		if !s.Done() {
			t.Fatalf("stream %d not done", i)
		}
		if r := s.Result(); r.Trap != nil || r.Response == nil || r.Response.Status != 503 {
			t.Fatalf("stream %d: trap %v, response %+v", i, r.Trap, r.Response)
		}
	}
	wantMetrics(t, h, map[string]int64{"nedry.rule.pay.halts": 0})
	h.Advance(time.Second)
	wantMetrics(t, h, map[string]int64{"nedry.rule.pay.halts": 1, "nedry.rule.pay.halted": 1,
		"nedry.rule.pay.matched": 3, "nedry.rule.other.matched": 1})
	noTrap(t, h)
}

// A response-phase delay that max_active_faults drops at the response
// leaves a request into which nothing was injected: a control request,
// counted by the guard with the error its upstream answered and the time
// from its request headers, as if it had drawn no delay.
func TestHalt_droppedResponseDelayIsControl(t *testing.T) {
	for _, tc := range []struct {
		name, halt string
		upstream   func(*hosttest.Request)
	}{
		{"errors", `{"max_error_percent": 50, "min_requests": 5, "window": "1m"}`,
			func(r *hosttest.Request) { r.Upstream = upstreamStatus(503) }},
		{"slow", `{"max_slow_percent": 50, "slow": "1s", "min_requests": 5, "window": "1m"}`,
			func(r *hosttest.Request) { r.UpstreamLatency = 1500 * time.Millisecond }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := `{"seed": 5, "max_active_faults": 1, "rules": [{"name": "pay", "match": {"prefix": "/pay"},
			  "delay": {"percent": 100, "fixed": "1h", "phase": "response"}, "halt": ` + tc.halt + `}]}`
			h := newNedry(t, cfg, hosttest.Options{})
			// The one slot: this response stays held.
			holder := h.Start(get("GET", "/pay"))
			if holder.Done() {
				t.Fatal("the first response was not held")
			}
			for i := 0; i < 5; i++ {
				req := get("GET", "/pay")
				tc.upstream(&req)
				s := h.Start(req)
				if !s.Done() {
					h.Advance(2 * time.Second) // the slow upstream, not the holder's hour
				}
				if !s.Done() {
					t.Fatalf("request %d held", i)
				}
				if got := s.Result().FilterState["wasm.nedry"]; got != "pay; control" {
					t.Fatalf("request %d: filter state %q, want pay; control", i, got)
				}
			}
			wantMetrics(t, h, map[string]int64{"nedry.rule.pay.faults_overflow": 5})
			h.Advance(time.Second)
			wantMetrics(t, h, map[string]int64{"nedry.rule.pay.halts": 1})
			if !holder.Done() {
				t.Fatal("the halt did not release the held response")
			}
			noTrap(t, h)
		})
	}
}

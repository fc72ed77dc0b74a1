package hosttest_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// Second tests, through the compiled filter, for behaviours that mutation
// testing found guarded by a single test (or by unit tests only): each
// comes at the behaviour from another side.

// Dry run covers header-controlled faults too: counted and logged under
// header_control, nothing injected, nothing held, the control headers still
// removed.
func TestGaps_dryRunHeaderControl(t *testing.T) {
	h := newNedry(t, `{"dry_run": true, "header_control": {"enabled": true}}`, hosttest.Options{})
	r, id := run(h, get("GET", "/", "x-nedry-abort", "418", "x-nedry-delay-ms", "300"))
	if r.LocalReply != nil || r.Held != 0 || r.Upstream == nil || r.Response.Status != 200 || r.Header("x-nedry-fault") != "" {
		t.Fatalf("dry run injected something: reply %+v, held %v, response %+v", r.LocalReply, r.Held, r.Response)
	}
	if len(values(r.Upstream.Headers, "x-nedry-abort"))+len(values(r.Upstream.Headers, "x-nedry-delay-ms")) != 0 {
		t.Fatalf("control headers reached the upstream: %v", r.Upstream.Headers)
	}
	wantLogs(t, r, hosttest.LogLevelDebug,
		fmt.Sprintf("nedry: header_control: dry run: delay (stream %d)", id),
		fmt.Sprintf("nedry: header_control: dry run: abort (stream %d)", id))
	wantMetrics(t, h, map[string]int64{"nedry.header_control.matched": 1, "nedry.header_control.delays_injected": 1,
		"nedry.header_control.aborts_injected": 1, "nedry.active_faults": 0})
	settled(t, h)
}

// max_active_faults counts every held stream of the VM, whichever rule or
// phase holds it: a response-phase delay and a header-controlled delay
// overflow once a request-phase delay of another rule took the only place.
func TestGaps_maxActiveFaultsAcrossRulesAndPhases(t *testing.T) {
	h := newNedry(t, `{"tick": "5ms", "max_active_faults": 1, "header_control": {"enabled": true}, "rules": [
	  {"name": "req", "match": {"prefix": "/req"}, "delay": {"percent": 100, "fixed": "100ms"}},
	  {"name": "resp", "match": {"prefix": "/resp"}, "delay": {"percent": 100, "fixed": "100ms", "phase": "response"}}]}`,
		hosttest.Options{})
	held := h.Start(get("GET", "/req"))
	if !held.Paused() {
		t.Fatal("the first delay was not held")
	}
	for _, req := range []hosttest.Request{get("GET", "/resp"), get("GET", "/other", "x-nedry-delay-ms", "100")} {
		s := h.Start(req)
		if r := s.Result(); !s.Done() || r.Held != 0 || r.Response == nil || r.Response.Status != 200 {
			t.Fatalf("%s: done %v, held %v; want it through at once (overflow)", req.Headers[1][1], s.Done(), r.Held)
		}
	}
	h.Advance(100 * time.Millisecond)
	if !held.Done() || held.Result().Held != 100*time.Millisecond {
		t.Fatalf("the held stream: done %v, held %v", held.Done(), held.Result().Held)
	}
	wantMetrics(t, h, map[string]int64{"nedry.rule.req.delays_injected": 1, "nedry.rule.resp.faults_overflow": 1,
		"nedry.rule.resp.delays_injected": 0, "nedry.header_control.faults_overflow": 1, "nedry.header_control.delays_injected": 0})
	settled(t, h)
}

// A response-phase delay holds the upstream's response, then the rule's
// response corruption applies to it, and the tag names both.
func TestGaps_responseDelayThenCorruption(t *testing.T) {
	h := newNedry(t, `{"tick": "10ms", "rules": [{"name": "rd", "delay": {"percent": 100, "fixed": "30ms", "phase": "response"},
	  "corrupt": {"percent": 100, "request": [{"op": "set", "name": "x-req", "value": "1"}],
	   "response": [{"op": "status", "value": 502}, {"op": "remove", "name": "x-up"}]}}]}`, hosttest.Options{Workers: 2})
	for w := 0; w < 2; w++ {
		req := get("GET", "/")
		req.Worker, req.WorkerSet = w, true
		req.Response = &hosttest.Response{Status: 200, Headers: [][2]string{{"x-up", "1"}}, Body: []byte("b")}
		s := h.Start(req)
		if !s.Paused() {
			t.Fatalf("worker %d: the response was not held", w)
		}
		if v, _ := s.Result().Upstream.Header("x-req"); v != "1" {
			t.Fatalf("worker %d: the request corruption did not happen before the upstream", w)
		}
		h.Advance(30 * time.Millisecond)
		r := s.Result()
		if !s.Done() || r.Held != 30*time.Millisecond || r.Response.Status != 502 || r.Header("x-up") != "" ||
			r.Header("x-nedry-fault") != "rd; delay,corrupt" {
			t.Fatalf("worker %d: done %v, held %v, response %+v", w, s.Done(), r.Held, r.Response)
		}
	}
	wantMetrics(t, h, with(ruleMetrics("rd"), "nedry.rule.rd.matched", 2, "nedry.rule.rd.delays_injected", 2,
		"nedry.rule.rd.corruptions_injected", 2))
	settled(t, h)
}

// A panic in proxy_on_response_headers lets the upstream's response through
// untouched: the rule's response corruption and the tag are skipped, the
// request-side corruption already happened.
func TestGaps_panicInResponseHeadersFailsOpen(t *testing.T) {
	h := newNedry(t, `{"header_control": {"enabled": true}, "rules": [{"name": "c", "corrupt": {"percent": 100,
	  "request": [{"op": "set", "name": "x-req", "value": "1"}], "response": [{"op": "status", "value": 500}]}}]}`, hosttest.Options{})
	allowErrors(h)
	req := get("GET", "/", "x-nedry-panic", "response")
	req.Response = &hosttest.Response{Status: 201, Headers: [][2]string{{"x-up", "1"}}}
	r, id := run(h, req)
	if r.Trap != nil || r.Response == nil || r.Response.Status != 201 || r.Header("x-up") != "1" || r.Header("x-nedry-fault") != "" {
		t.Fatalf("have trap %v, response %+v; want the upstream's 201 untouched", r.Trap, r.Response)
	}
	if v, _ := r.Upstream.Header("x-req"); v != "1" {
		t.Fatal("the request corruption before the panic is missing")
	}
	errs := logsAt(h.Logs(), hosttest.LogLevelError)
	if want := fmt.Sprintf("nedry: recovered panic in proxy_on_response_headers (context %d)", id); len(errs) != 1 || !strings.HasPrefix(errs[0], want) {
		t.Fatalf("error logs %q, want one starting %q", errs, want)
	}
	wantMetrics(t, h, map[string]int64{"nedry.errors": 1, "nedry.rule.c.corruptions_injected": 1})
	settled(t, h)
}

// Abort beats reset after a delay too: the stream is held, then answered,
// never reset, and the reset is not counted.
func TestGaps_abortBeatsResetAfterDelay(t *testing.T) {
	h := newNedry(t, `{"tick": "5ms", "rules": [{"name": "dar", "delay": {"percent": 100, "fixed": "20ms"},
	  "abort": {"percent": 100, "http_status": 429}, "reset": {"percent": 100}}]}`, hosttest.Options{})
	r, _ := run(h, get("GET", "/"))
	if r.Reset || r.Held != 20*time.Millisecond || r.LocalReply == nil || r.LocalReply.Status != 429 || r.Upstream != nil ||
		r.Header("x-nedry-fault") != "dar; delay,abort" {
		t.Fatalf("have reset %v, held %v, reply %+v, tag %q; want the abort after the delay", r.Reset, r.Held, r.LocalReply, r.Header("x-nedry-fault"))
	}
	wantMetrics(t, h, with(ruleMetrics("dar"), "nedry.rule.dar.matched", 1, "nedry.rule.dar.delays_injected", 1,
		"nedry.rule.dar.aborts_injected", 1))
	settled(t, h)
}

// An unknown key in delay refuses the configuration with its path, at
// start-up and on a push (which changes nothing).
func TestGaps_unknownDelayKey(t *testing.T) {
	const bad = `{"rules": [{"name": "d", "delay": {"percent": 100, "fixed": "1s", "fixd": "2s"}}]}`
	const want = "nedry: invalid configuration: rules[0] (d).delay.fixd: unknown field"
	_, err := hosttest.New(t.Context(), nedry(t), hosttest.Options{Seed: 1, PluginConfig: []byte(bad)})
	var pe *hosttest.PushError
	if !errors.As(err, &pe) || !hasLog(pe.Logs, hosttest.LogLevelError, want) {
		t.Fatalf("start-up: have %v, want a refusal logging %q", err, want)
	}
	h := newNedry(t, `{"rules": [{"name": "d", "delay": {"percent": 100, "fixed": "10ms"}}]}`, hosttest.Options{})
	if err := h.Reconfigure([]byte(bad)); !errors.As(err, &pe) || !hasLog(pe.Logs, hosttest.LogLevelError, want) {
		t.Fatalf("push: have %v, want a refusal logging %q", err, want)
	}
	if r, _ := run(h, get("GET", "/")); r.Held != 10*time.Millisecond {
		t.Fatalf("after the refused push: held %v, want the old 10ms", r.Held)
	}
	wantMetrics(t, h, map[string]int64{"nedry.config_rejected": 1})
	settled(t, h)
}

// Rules match the path without its fragment, as without its query, for
// every path matcher; the upstream still gets the :path unchanged.
func TestGaps_fragmentStripped(t *testing.T) {
	h := newNedry(t, `{"rules": [
	  {"name": "exact", "match": {"path": "/e"}, "abort": {"percent": 100, "http_status": 501}},
	  {"name": "prefix", "match": {"prefix": "/p/"}, "abort": {"percent": 100, "http_status": 502}},
	  {"name": "regex", "match": {"regex": "^/r/[0-9]+$"}, "abort": {"percent": 100, "http_status": 503}}]}`, hosttest.Options{})
	tests := []struct {
		path   string
		status int // 0: no rule matches
	}{
		{"/e#top", 501}, {"/e?q=1#top", 501}, {"/e#", 501}, {"/e/#x", 0},
		{"/p/#x", 502}, {"/p#/x", 0},
		{"/r/12#34", 503}, {"/r/12#x?y", 503}, {"/r/#12", 0},
	}
	for _, tc := range tests {
		r, _ := run(h, get("GET", tc.path))
		switch {
		case tc.status == 0 && (r.LocalReply != nil || r.Upstream == nil):
			t.Errorf("%s: have reply %+v, want no match", tc.path, r.LocalReply)
		case tc.status == 0:
			if v, _ := r.Upstream.Header(":path"); v != tc.path {
				t.Errorf("%s: the upstream got :path %q", tc.path, v)
			}
		case r.LocalReply == nil || r.LocalReply.Status != tc.status:
			t.Errorf("%s: have reply %+v, want status %d", tc.path, r.LocalReply, tc.status)
		}
	}
	settled(t, h)
}

package hosttest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// A stream reset while a delay holds it is never resumed: no upstream call,
// the gauge goes back to 0 and nothing stays paused.
func TestRuntime_resetDuringDelay(t *testing.T) {
	h := newNedry(t, `{"tick": "5ms", "rules": [{"name": "d", "delay": {"percent": 100, "fixed": "100ms"}}]}`, hosttest.Options{})
	upstream := 0
	count := func(context.Context, *hosttest.UpstreamRequest) (*hosttest.Response, error) {
		upstream++
		return &hosttest.Response{Status: 200}, nil
	}
	req := get("GET", "/")
	req.Upstream = count
	a := h.Start(req)
	b := h.Start(req)
	h.Advance(30 * time.Millisecond)
	wantMetrics(t, h, map[string]int64{"nedry.active_faults": 2})
	a.Reset()
	if r := a.Result(); !a.Done() || !r.Reset || r.ResetBy != "client" || r.Held != 30*time.Millisecond {
		t.Fatalf("reset stream: done %v, reset %v by %q, held %v", a.Done(), r.Reset, r.ResetBy, r.Held)
	}
	h.Advance(5 * time.Millisecond) // the gauge moves at the next tick
	wantMetrics(t, h, map[string]int64{"nedry.active_faults": 1})
	h.Advance(200 * time.Millisecond)
	if !b.Done() || upstream != 1 {
		t.Fatalf("have other stream done %v, %d upstream calls; want 1 (the reset one never resumes)", b.Done(), upstream)
	}
	wantCallbacks(t, a.Result(), "proxy_on_context_create", "proxy_on_request_headers", "proxy_on_log", "proxy_on_done", "proxy_on_delete")
	// Reset right after request headers, through Request.ResetAt.
	req.ResetAt = hosttest.ResetAfterRequestHeaders
	r, _ := run(h, req)
	if !r.Reset || upstream != 1 {
		t.Fatalf("ResetAt: reset %v, upstream calls %d", r.Reset, upstream)
	}
	// Reset while a response-phase delay holds the response.
	h2 := newNedry(t, `{"tick": "5ms", "rules": [{"name": "d", "delay": {"percent": 100, "fixed": "100ms", "phase": "response"}}]}`, hosttest.Options{})
	s := h2.Start(get("GET", "/"))
	if !s.Paused() {
		t.Fatal("response not held")
	}
	s.Reset()
	h2.Advance(time.Second)
	if r := s.Result(); !r.Reset || r.Response != nil {
		t.Fatalf("response-phase reset: %+v", r)
	}
	settled(t, h)
	settled(t, h2)
	noTrap(t, h)
	noTrap(t, h2)
}

// Beyond max_active_faults held streams per VM the delay is skipped and
// counted as an overflow; the request goes on at once.
func TestRuntime_overflow(t *testing.T) {
	h := newNedry(t, `{"tick": "5ms", "max_active_faults": 2, "rules": [{"name": "o", "delay": {"percent": 100, "fixed": "100ms"}}]}`,
		hosttest.Options{Workers: 2})
	var held []*hosttest.Stream
	for i := 0; i < 4; i++ { // two per worker: every VM at its cap
		held = append(held, h.Start(get("GET", "/")))
	}
	for i, s := range held {
		if !s.Paused() {
			t.Fatalf("stream %d not held below the cap", i)
		}
	}
	over := h.Start(hosttest.Request{Headers: [][2]string{{":path", "/"}}, Worker: 1, WorkerSet: true})
	r := over.Result()
	if !over.Done() || r.Held != 0 || r.Upstream == nil || r.Response.Status != 200 {
		t.Fatalf("overflowing stream: done %v, held %v, upstream %v", over.Done(), r.Held, r.Upstream)
	}
	if have := values(r.Response.Headers, "x-nedry-fault"); len(have) != 0 {
		t.Fatalf("an overflowed stream is tagged %q; nothing was injected", have)
	}
	wantLogs(t, r, hosttest.LogLevelDebug, fmt.Sprintf("nedry: rule o: overflow (stream %d)", over.ID()))
	h.Advance(5 * time.Millisecond) // the gauge moves at the next tick
	wantMetrics(t, h, with(ruleMetrics("o"), "nedry.rule.o.matched", 5, "nedry.rule.o.delays_injected", 4,
		"nedry.rule.o.faults_overflow", 1, "nedry.active_faults", 4))
	h.Advance(95 * time.Millisecond)
	// Below the cap again: delays resume.
	if s := h.Start(get("GET", "/")); !s.Paused() {
		t.Fatal("not held after the others drained")
	}
	h.Advance(100 * time.Millisecond)
	settled(t, h)
}

func TestRuntime_headerControl(t *testing.T) {
	const rule = `"rules": [{"name": "r", "match": {"prefix": "/rule"}, "abort": {"percent": 100, "http_status": 500}}]`
	type want struct {
		status int           // local reply status; 0 = passes
		grpc   int32         // local reply gRPC status when status != 0
		held   time.Duration // delay
		tag    string
	}
	tests := []struct {
		name, cfg string
		headers   []string
		want      want
	}{
		{"off: ignored", `{` + rule + `}`, []string{"x-nedry-abort", "418", "x-nedry-delay-ms", "100"}, want{}},
		{"off: the rule still applies", `{` + rule + `}`, []string{"x-nedry-delay-ms", "100"}, want{status: 500, grpc: -1, tag: "r; abort"}},
		{"on: abort", `{"header_control": {"enabled": true}, ` + rule + `}`, []string{"x-nedry-abort", "418"},
			want{status: 418, grpc: -1, tag: "header_control; abort"}},
		{"on: header control replaces the rule", `{"header_control": {"enabled": true}, ` + rule + `}`, []string{"x-nedry-abort", "429"},
			want{status: 429, grpc: -1, tag: "header_control; abort"}},
		{"on: grpc abort", `{"header_control": {"enabled": true}}`,
			[]string{"content-type", "application/grpc", "x-nedry-abort-grpc", "14"}, want{status: 503, grpc: 14, tag: "header_control; abort"}},
		{"on: delay", `{"header_control": {"enabled": true}}`, []string{"x-nedry-delay-ms", "70"},
			want{held: 70 * time.Millisecond, tag: "header_control; delay"}},
		{"on: delay capped at max_delay", `{"header_control": {"enabled": true, "max_delay": "2s"}}`, []string{"x-nedry-delay-ms", "999999999"},
			want{held: 2 * time.Second, tag: "header_control; delay"}},
		{"on: delay then abort", `{"header_control": {"enabled": true}}`, []string{"x-nedry-delay-ms", "20", "x-nedry-abort", "502"},
			want{status: 502, grpc: -1, held: 20 * time.Millisecond, tag: "header_control; delay,abort"}},
		{"on: invalid status ignored", `{"header_control": {"enabled": true}}`, []string{"x-nedry-abort", "700"}, want{}},
		{"on: non-numeric status ignored", `{"header_control": {"enabled": true}}`, []string{"x-nedry-abort", "five hundred"}, want{}},
		{"on: negative delay ignored", `{"header_control": {"enabled": true}}`, []string{"x-nedry-delay-ms", "-5"}, want{}},
		{"on: zero delay ignored", `{"header_control": {"enabled": true}}`, []string{"x-nedry-delay-ms", "0"}, want{}},
		{"on: grpc code out of range ignored", `{"header_control": {"enabled": true}}`, []string{"x-nedry-abort-grpc", "17"}, want{}},
		{"secret: right", `{"header_control": {"enabled": true, "secret": "s3cret"}}`, []string{"x-nedry-secret", "s3cret", "x-nedry-abort", "418"},
			want{status: 418, grpc: -1, tag: "header_control; abort"}},
		{"secret: wrong", `{"header_control": {"enabled": true, "secret": "s3cret"}}`, []string{"x-nedry-secret", "s3cre7", "x-nedry-abort", "418"}, want{}},
		{"secret: prefix only", `{"header_control": {"enabled": true, "secret": "s3cret"}}`, []string{"x-nedry-secret", "s3c", "x-nedry-abort", "418"}, want{}},
		{"secret: missing", `{"header_control": {"enabled": true, "secret": "s3cret"}}`, []string{"x-nedry-abort", "418"}, want{}},
		{"kill switch beats header control", `{"enabled": false, "header_control": {"enabled": true}}`, []string{"x-nedry-abort", "418"}, want{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newNedry(t, tc.cfg, hosttest.Options{})
			path := "/"
			if strings.Contains(tc.name, "rule") {
				path = "/rule"
			}
			r, id := run(h, get("GET", path, append(tc.headers, "x-nedry-other", "1", "x-keep", "1")...))
			if r.Trap != nil {
				t.Fatalf("trap: %v", r.Trap)
			}
			if r.Held != tc.want.held {
				t.Fatalf("held: have %v, want %v", r.Held, tc.want.held)
			}
			if tc.want.status != 0 {
				if r.LocalReply == nil || r.LocalReply.Status != tc.want.status || r.LocalReply.GRPCStatus != tc.want.grpc || r.Upstream != nil {
					t.Fatalf("have reply %+v, upstream %v; want status %d, grpc %d", r.LocalReply, r.Upstream, tc.want.status, tc.want.grpc)
				}
			} else {
				if r.LocalReply != nil || r.Upstream == nil {
					t.Fatalf("have reply %+v; want the request upstream", r.LocalReply)
				}
				for _, kv := range r.Upstream.Headers {
					if strings.HasPrefix(kv[0], "x-nedry-") {
						t.Fatalf("upstream saw %v: x-nedry-* headers must always be removed", kv)
					}
				}
				if v, _ := r.Upstream.Header("x-keep"); v != "1" {
					t.Fatal("other headers must reach the upstream")
				}
			}
			if have := r.Header("x-nedry-fault"); have != tc.want.tag {
				t.Fatalf("tag: have %q, want %q", have, tc.want.tag)
			}
			if kinds, ok := strings.CutPrefix(tc.want.tag, "header_control; "); ok {
				wantMetrics(t, h, map[string]int64{"nedry.header_control.matched": 1})
				var logs []string
				for _, k := range strings.Split(kinds, ",") {
					logs = append(logs, fmt.Sprintf("nedry: header_control: %s (stream %d)", k, id))
				}
				wantLogs(t, r, hosttest.LogLevelDebug, logs...)
			}
			settled(t, h)
		})
	}
}

// With the kill switch off nothing is injected, nothing is matched, and
// x-nedry-* headers are still removed.
func TestRuntime_killSwitch(t *testing.T) {
	h := newNedry(t, `{"enabled": false, "rules": [{"name": "k", "abort": {"percent": 100}, "delay": {"percent": 100, "fixed": "1s"}}]}`, hosttest.Options{})
	if !hasLog(h.Logs(), hosttest.LogLevelInfo, "nedry: configuration accepted: 1 rule (k), disabled, random seed, tick 5ms") {
		t.Fatalf("logs: %v", h.Logs())
	}
	for i := 0; i < 10; i++ {
		r, _ := run(h, get("GET", "/", "x-nedry-abort", "500"))
		if r.LocalReply != nil || r.Held != 0 || r.Upstream == nil || len(values(r.Upstream.Headers, "x-nedry-abort")) != 0 || r.Header("x-nedry-fault") != "" {
			t.Fatalf("request %d: reply %+v, held %v, upstream %v", i, r.LocalReply, r.Held, r.Upstream)
		}
	}
	wantMetrics(t, h, ruleMetrics("k"))
}

// Dry run decides, counts and logs, and injects nothing.
func TestRuntime_dryRun(t *testing.T) {
	h := newNedry(t, `{"dry_run": true, "rules": [{"name": "dr", "abort": {"percent": 100}, "delay": {"percent": 100, "fixed": "1s"},
		"corrupt": {"percent": 100, "request": [{"op": "remove", "name": "x-a"}], "response": [{"op": "status", "value": 500}]}, "reset": {"percent": 100}}]}`,
		hosttest.Options{})
	if !hasLog(h.Logs(), hosttest.LogLevelInfo, "nedry: configuration accepted: 1 rule (dr), enabled, dry run, random seed, tick 5ms") {
		t.Fatalf("logs: %v", h.Logs())
	}
	r, id := run(h, get("GET", "/", "x-a", "1"))
	if r.LocalReply != nil || r.Reset || r.Held != 0 || r.Response.Status != 200 || r.Header("x-nedry-fault") != "" {
		t.Fatalf("dry run injected something: %+v", r)
	}
	if v, _ := r.Upstream.Header("x-a"); v != "1" {
		t.Fatal("dry run corrupted a request header")
	}
	wantLogs(t, r, hosttest.LogLevelDebug,
		fmt.Sprintf("nedry: rule dr: dry run: delay (stream %d)", id),
		fmt.Sprintf("nedry: rule dr: dry run: abort (stream %d)", id),
		fmt.Sprintf("nedry: rule dr: dry run: corrupt (stream %d)", id),
		fmt.Sprintf("nedry: rule dr: dry run: reset (stream %d)", id))
	wantMetrics(t, h, map[string]int64{"nedry.rule.dr.matched": 1, "nedry.rule.dr.delays_injected": 1, "nedry.rule.dr.aborts_injected": 1,
		"nedry.rule.dr.corruptions_injected": 1, "nedry.rule.dr.resets_injected": 1, "nedry.rule.dr.faults_overflow": 0, "nedry.active_faults": 0})
}

// Every worker VM decides on its own with the same seed, and the metrics of
// all workers add up in one place, as in Envoy's shared stats store.
func TestRuntime_workers(t *testing.T) {
	const perWorker = 300
	h := newNedry(t, `{"seed": 77, "tick": "1ms", "rules": [{"name": "w", "abort": {"percent": 30}, "delay": {"percent": 20, "fixed": "3ms"}}]}`,
		hosttest.Options{Workers: 2})
	// Driven concurrently, one goroutine per worker; the clock is moved by
	// this goroutine only.
	outcomes := make([][]string, 2)
	starts := make([][]*hosttest.Stream, 2)
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				starts[w] = append(starts[w], h.Start(hosttest.Request{Headers: [][2]string{{":path", "/"}}, Worker: w, WorkerSet: true}))
			}
		}(w)
	}
	wg.Wait()
	h.Advance(10 * time.Millisecond)
	var aborts, delays int64
	for w := range starts {
		for _, s := range starts[w] {
			if !s.Done() {
				t.Fatal("stream still open")
			}
			r := s.Result()
			o := fmt.Sprintf("held=%v", r.Held)
			if r.LocalReply != nil {
				o += " abort"
				aborts++
			}
			if r.Held > 0 {
				delays++
			}
			outcomes[w] = append(outcomes[w], o)
		}
	}
	if fmt.Sprint(outcomes[0]) != fmt.Sprint(outcomes[1]) {
		t.Fatal("two workers with the same seed decided differently")
	}
	if aborts == 0 || delays == 0 {
		t.Fatalf("aborts %d, delays %d: want some of each", aborts, delays)
	}
	wantMetrics(t, h, map[string]int64{"nedry.rule.w.matched": 2 * perWorker, "nedry.rule.w.aborts_injected": aborts,
		"nedry.rule.w.delays_injected": delays, "nedry.active_faults": 0})
	settled(t, h)
	noTrap(t, h)
}

// x-nedry-panic (header control only) makes the filter panic on purpose:
// the panic is recovered, logged at error level with the context id,
// counted in nedry.errors, and the stream goes on untouched.
func TestRuntime_panicRecovery(t *testing.T) {
	tests := []struct {
		where    string
		headers  []string
		callback string
	}{
		{"request", nil, "proxy_on_request_headers"},
		{"response", nil, "proxy_on_response_headers"},
		{"tick", []string{"x-nedry-delay-ms", "10"}, "proxy_on_tick"},
	}
	for _, tc := range tests {
		t.Run(tc.where, func(t *testing.T) {
			h := newNedry(t, `{"tick": "5ms", "header_control": {"enabled": true, "secret": "k"}}`, hosttest.Options{})
			allowErrors(h)
			hs := append([]string{"x-nedry-secret", "k", "x-nedry-panic", tc.where, "x-a", "1"}, tc.headers...)
			r, id := run(h, get("GET", "/", hs...))
			if r.Trap != nil {
				t.Fatalf("trap: %v", r.Trap)
			}
			if r.Upstream == nil || r.Response == nil || r.Response.Status != 200 || r.LocalReply != nil {
				t.Fatalf("have upstream %v, response %+v; want the stream to go on", r.Upstream, r.Response)
			}
			if v, _ := r.Upstream.Header("x-a"); v != "1" || len(values(r.Upstream.Headers, "x-nedry-panic")) != 0 {
				t.Fatalf("upstream headers: %v", r.Upstream.Headers)
			}
			errs := logsAt(h.Logs(), hosttest.LogLevelError)
			if len(errs) != 1 || !strings.HasPrefix(errs[0], "nedry: ") || !strings.Contains(errs[0], "recovered panic") {
				t.Fatalf("error logs: %q", errs)
			}
			// The operator must be able to tell which stream it was.
			if !strings.Contains(errs[0], fmt.Sprintf("(context %d)", id)) && !strings.Contains(errs[0], fmt.Sprintf("(stream %d)", id)) {
				t.Fatalf("error log %q lacks the context id %d", errs[0], id)
			}
			wantMetrics(t, h, map[string]int64{"nedry.errors": 1, "nedry.active_faults": 0})
			// The VM is still healthy.
			if r, _ := run(h, get("GET", "/")); r.Response == nil || r.Response.Status != 200 {
				t.Fatalf("next request: %+v", r)
			}
			settled(t, h)
			noTrap(t, h)
		})
	}
	// Without the secret the header is ignored (and still removed).
	h := newNedry(t, `{"header_control": {"enabled": true, "secret": "k"}}`, hosttest.Options{})
	r, _ := run(h, get("GET", "/", "x-nedry-panic", "request"))
	if len(values(r.Upstream.Headers, "x-nedry-panic")) != 0 || h.Metric("nedry.errors") != 0 {
		t.Fatalf("unauthorised panic request: upstream %v, errors %d", r.Upstream.Headers, h.Metric("nedry.errors"))
	}
}

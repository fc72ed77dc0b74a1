package hosttest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

func TestFault_abort(t *testing.T) {
	plain := func(body string, extra ...[2]string) [][2]string {
		h := [][2]string{}
		if body != "" {
			h = append(h, [2]string{"content-length", fmt.Sprint(len(body))}, [2]string{"content-type", "text/plain"})
		}
		return append(h, extra...)
	}
	tests := []struct {
		name        string
		abort       string
		extra       string // top-level config keys
		wantStatus  int
		wantBody    string
		wantHeaders [][2]string // every header the client sees
	}{
		{"default body", `{"percent": 100}`, ``, 503, "nedry fault: abort",
			plain("nedry fault: abort", [2]string{"x-nedry-fault", "a; abort"})},
		{"custom status, body and headers",
			`{"percent": 100, "http_status": 429, "body": "slow down", "headers": {"retry-after": "1", "x-why": "chaos"}}`,
			``, 429, "slow down", plain("slow down", [2]string{"retry-after", "1"}, [2]string{"x-why", "chaos"}, [2]string{"x-nedry-fault", "a; abort"})},
		{"empty body", `{"percent": 100, "http_status": 500, "body": ""}`, ``, 500, "", plain("", [2]string{"x-nedry-fault", "a; abort"})},
		{"tag renamed", `{"percent": 100}`, `"response_header": "x-chaos",`, 503, "nedry fault: abort",
			plain("nedry fault: abort", [2]string{"x-chaos", "a; abort"})},
		{"tag off", `{"percent": 100, "headers": {"x-a": "1"}}`, `"response_header": "",`, 503, "nedry fault: abort",
			plain("nedry fault: abort", [2]string{"x-a", "1"})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := `{` + tc.extra + `"seed": 7, "rules": [{"name": "a", "abort": ` + tc.abort + `}]}`
			h := newNedry(t, cfg, hosttest.Options{})
			r, id := run(h, get("GET", "/x"))
			if r.Trap != nil {
				t.Fatalf("trap: %v", r.Trap)
			}
			if r.Upstream != nil {
				t.Fatalf("upstream saw the aborted request: %v", r.Upstream.Headers)
			}
			if r.LocalReply == nil || r.Response == nil {
				t.Fatalf("have local reply %v, response %v; want both", r.LocalReply, r.Response)
			}
			if r.LocalReply.Status != tc.wantStatus || r.Response.Status != tc.wantStatus {
				t.Fatalf("status: have reply %d, client %d; want %d", r.LocalReply.Status, r.Response.Status, tc.wantStatus)
			}
			if r.LocalReply.GRPCStatus != -1 {
				t.Fatalf("grpc status: have %d, want -1 (plain reply)", r.LocalReply.GRPCStatus)
			}
			if r.LocalReply.Details != "nedry_fault_abort" {
				t.Fatalf("details: have %q, want nedry_fault_abort", r.LocalReply.Details)
			}
			if string(r.Response.Body) != tc.wantBody {
				t.Fatalf("body: have %q, want %q", r.Response.Body, tc.wantBody)
			}
			if fmt.Sprintf("%q", r.Response.Headers) != fmt.Sprintf("%q", tc.wantHeaders) {
				t.Fatalf("client headers:\nhave %q\nwant %q", r.Response.Headers, tc.wantHeaders)
			}
			wantMetrics(t, h, with(ruleMetrics("a"), "nedry.rule.a.matched", 1, "nedry.rule.a.aborts_injected", 1))
			wantLogs(t, r, hosttest.LogLevelDebug, fmt.Sprintf("nedry: rule a: abort (stream %d)", id))
			// Envoy runs the response callbacks on a local reply too; a
			// reply without a body has no body callback.
			cbs := []string{"proxy_on_context_create", "proxy_on_request_headers", "proxy_on_response_headers"}
			if tc.wantBody != "" {
				cbs = append(cbs, "proxy_on_response_body")
			}
			wantCallbacks(t, r, append(cbs, "proxy_on_log", "proxy_on_done", "proxy_on_delete")...)
			settled(t, h)
		})
	}
}

// wantCallbacks compares the callbacks of r with want.
func wantCallbacks(t testing.TB, r hosttest.Result, want ...string) {
	t.Helper()
	if fmt.Sprint(r.Callbacks) != fmt.Sprint(want) {
		t.Fatalf("callbacks:\nhave %v\nwant %v", r.Callbacks, want)
	}
}

func TestFault_grpcAbort(t *testing.T) {
	tests := []struct {
		name        string
		abort       string
		contentType string
		wantStatus  int   // as the client sees it
		wantGRPC    int32 // LocalReply.GRPCStatus
		wantMessage string
	}{
		{"grpc request", `{"percent": 100, "http_status": 503, "grpc_status": 14}`, "application/grpc", 200, 14, "nedry fault: abort"},
		{"grpc+proto request", `{"percent": 100, "grpc_status": 8}`, "application/grpc+proto", 200, 8, "nedry fault: abort"},
		{"grpc status 0", `{"percent": 100, "grpc_status": 0}`, "application/grpc", 200, 0, "nedry fault: abort"},
		{"grpc message percent-encoded as Envoy does", `{"percent": 100, "grpc_status": 13, "body": "two\nlines\u0000 100% ~ok"}`,
			"application/grpc", 200, 13, "two%0Alines%00 100%25 %7Eok"},
		{"plain request gets the http status", `{"percent": 100, "http_status": 502, "grpc_status": 14}`, "application/json", 502, -1, ""},
		{"grpc request without grpc_status", `{"percent": 100, "http_status": 504}`, "application/grpc", 504, -1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newNedry(t, `{"rules": [{"name": "g", "abort": `+tc.abort+`}]}`, hosttest.Options{})
			r, _ := run(h, get("POST", "/pkg.Svc/Call", "content-type", tc.contentType))
			if r.Trap != nil || r.Upstream != nil || r.LocalReply == nil {
				t.Fatalf("have trap %v, upstream %v, reply %v; want a local reply only", r.Trap, r.Upstream, r.LocalReply)
			}
			if r.LocalReply.GRPCStatus != tc.wantGRPC || r.Response.Status != tc.wantStatus {
				t.Fatalf("have grpc %d, status %d; want grpc %d, status %d",
					r.LocalReply.GRPCStatus, r.Response.Status, tc.wantGRPC, tc.wantStatus)
			}
			if tc.wantGRPC >= 0 {
				if have := r.Header("grpc-status"); have != fmt.Sprint(tc.wantGRPC) {
					t.Fatalf("grpc-status: have %q, want %d", have, tc.wantGRPC)
				}
				if have := r.Header("grpc-message"); have != tc.wantMessage {
					t.Fatalf("grpc-message: have %q, want %q (the abort body, percent-encoded)", have, tc.wantMessage)
				}
			} else if have := values(r.Response.Headers, "grpc-status"); len(have) != 0 {
				t.Fatalf("grpc-status on a plain reply: %q", have)
			}
			if have := r.Header("x-nedry-fault"); have != "g; abort" {
				t.Fatalf("tag: have %q, want %q", have, "g; abort")
			}
			wantMetrics(t, h, with(ruleMetrics("g"), "nedry.rule.g.matched", 1, "nedry.rule.g.aborts_injected", 1))
		})
	}
}

func TestFault_delayRequestPhase(t *testing.T) {
	h := newNedry(t, `{"tick": "5ms", "rules": [{"name": "d", "delay": {"percent": 100, "fixed": "250ms"}}]}`, hosttest.Options{})
	s := h.Start(get("GET", "/slow"))
	if !s.Paused() || s.Done() {
		t.Fatalf("have paused %v, done %v; want a paused stream", s.Paused(), s.Done())
	}
	if s.Result().Upstream != nil {
		t.Fatal("upstream saw the request before the delay ended")
	}
	// The gauge moves at the next tick.
	h.Advance(5 * time.Millisecond)
	wantMetrics(t, h, map[string]int64{"nedry.active_faults": 1, "nedry.rule.d.delays_injected": 1})
	h.Advance(240 * time.Millisecond)
	if !s.Paused() {
		t.Fatal("resumed before the delay was over")
	}
	h.Advance(5 * time.Millisecond)
	if !s.Done() {
		t.Fatal("still held after the delay")
	}
	r := s.Result()
	if r.Held != 250*time.Millisecond {
		t.Fatalf("held: have %v, want 250ms", r.Held)
	}
	if r.Upstream == nil || r.Response == nil || r.Response.Status != 200 || string(r.Response.Body) != "ok" {
		t.Fatalf("have upstream %v, response %+v; want the upstream's 200 ok", r.Upstream, r.Response)
	}
	if have := r.Header("x-nedry-fault"); have != "d; delay" {
		t.Fatalf("tag: have %q, want %q", have, "d; delay")
	}
	wantLogs(t, r, hosttest.LogLevelDebug, fmt.Sprintf("nedry: rule d: delay (stream %d)", s.ID()))
	wantCallbacks(t, r, "proxy_on_context_create", "proxy_on_request_headers", "proxy_on_response_headers",
		"proxy_on_response_body", "proxy_on_log", "proxy_on_done", "proxy_on_delete")
	wantMetrics(t, h, with(ruleMetrics("d"), "nedry.rule.d.matched", 1, "nedry.rule.d.delays_injected", 1))
	settled(t, h)
	noTrap(t, h)
}

func TestFault_delayJitter(t *testing.T) {
	const (
		n      = 400
		fixed  = 100 * time.Millisecond
		jitter = 40 * time.Millisecond
		tick   = time.Millisecond
	)
	h := newNedry(t, `{"seed": 3, "tick": "1ms", "rules": [{"name": "j", "delay": {"percent": 100, "fixed": "100ms", "jitter": "40ms"}}]}`, hosttest.Options{})
	seen := map[time.Duration]bool{}
	lo, hi := time.Hour, time.Duration(0)
	for i := 0; i < n; i++ {
		r, _ := run(h, get("GET", "/"))
		if r.Upstream == nil {
			t.Fatalf("request %d never reached the upstream", i)
		}
		// A stream resumes at the first tick at or after its due time, so
		// Held may exceed the drawn delay by up to one tick.
		if r.Held < fixed-jitter || r.Held > fixed+jitter+tick {
			t.Fatalf("request %d held %v, want within [%v, %v]", i, r.Held, fixed-jitter, fixed+jitter+tick)
		}
		seen[r.Held] = true
		lo, hi = min(lo, r.Held), max(hi, r.Held)
	}
	// Uniform over 81 one-millisecond steps: 400 draws cover most of them
	// and reach both ends of the range.
	if len(seen) < 50 || lo > fixed-jitter+5*time.Millisecond || hi < fixed+jitter-5*time.Millisecond {
		t.Fatalf("jitter does not vary enough: %d distinct delays in [%v, %v]", len(seen), lo, hi)
	}
	settled(t, h)
}

func TestFault_delayResponsePhase(t *testing.T) {
	h := newNedry(t, `{"tick": "10ms", "rules": [{"name": "r", "delay": {"percent": 100, "fixed": "100ms", "phase": "response"}}]}`, hosttest.Options{})
	calls := 0
	req := get("GET", "/")
	req.Upstream = func(_ context.Context, u *hosttest.UpstreamRequest) (*hosttest.Response, error) {
		calls++
		return &hosttest.Response{Status: 201, Headers: [][2]string{{"x-up", "1"}}, Body: []byte("made")}, nil
	}
	s := h.Start(req)
	if calls != 1 || !s.Paused() {
		t.Fatalf("have %d upstream calls, paused %v; want the upstream called at once and the response held", calls, s.Paused())
	}
	if s.Result().Upstream == nil {
		t.Fatal("upstream request not recorded while the response is held")
	}
	h.Advance(90 * time.Millisecond)
	if !s.Paused() {
		t.Fatal("response released before the delay was over")
	}
	h.Advance(10 * time.Millisecond)
	r := s.Result()
	if !s.Done() || r.Held != 100*time.Millisecond {
		t.Fatalf("have done %v, held %v; want done after 100ms", s.Done(), r.Held)
	}
	if r.Response.Status != 201 || string(r.Response.Body) != "made" || r.Header("x-up") != "1" || r.Header("x-nedry-fault") != "r; delay" {
		t.Fatalf("response: have %+v, want the upstream's 201 with the tag", r.Response)
	}
	wantMetrics(t, h, with(ruleMetrics("r"), "nedry.rule.r.matched", 1, "nedry.rule.r.delays_injected", 1))
	settled(t, h)
}

func TestFault_delayThenAbort(t *testing.T) {
	h := newNedry(t, `{"tick": "5ms", "rules": [{"name": "da", "delay": {"percent": 100, "fixed": "50ms"}, "abort": {"percent": 100, "http_status": 500}}]}`, hosttest.Options{})
	s := h.Start(get("GET", "/"))
	if !s.Paused() || s.Result().LocalReply != nil {
		t.Fatal("want the delay first, with no reply yet")
	}
	h.Advance(50 * time.Millisecond)
	r := s.Result()
	if !s.Done() || r.Held != 50*time.Millisecond || r.Upstream != nil || r.LocalReply == nil || r.Response.Status != 500 {
		t.Fatalf("have done %v, held %v, upstream %v, reply %+v; want a 500 reply after 50ms", s.Done(), r.Held, r.Upstream, r.LocalReply)
	}
	if have := r.Header("x-nedry-fault"); have != "da; delay,abort" {
		t.Fatalf("tag: have %q, want %q", have, "da; delay,abort")
	}
	wantLogs(t, r, hosttest.LogLevelDebug,
		fmt.Sprintf("nedry: rule da: delay (stream %d)", s.ID()), fmt.Sprintf("nedry: rule da: abort (stream %d)", s.ID()))
	wantMetrics(t, h, with(ruleMetrics("da"), "nedry.rule.da.matched", 1, "nedry.rule.da.delays_injected", 1, "nedry.rule.da.aborts_injected", 1))
	settled(t, h)
}

func TestFault_reset(t *testing.T) {
	h := newNedry(t, `{"rules": [{"name": "rs", "reset": {"percent": 100}}]}`, hosttest.Options{})
	r, id := run(h, get("POST", "/"))
	if !r.Reset || r.ResetBy != "plugin" || r.Upstream != nil || r.Response != nil || r.LocalReply != nil {
		t.Fatalf("have reset %v by %q, upstream %v, response %v; want a plugin reset only", r.Reset, r.ResetBy, r.Upstream, r.Response)
	}
	wantLogs(t, r, hosttest.LogLevelDebug, fmt.Sprintf("nedry: rule rs: reset (stream %d)", id))
	wantMetrics(t, h, with(ruleMetrics("rs"), "nedry.rule.rs.matched", 1, "nedry.rule.rs.resets_injected", 1))
	settled(t, h)
}

func TestFault_abortWinsOverReset(t *testing.T) {
	h := newNedry(t, `{"rules": [{"name": "ar", "abort": {"percent": 100}, "reset": {"percent": 100}}]}`, hosttest.Options{})
	r, _ := run(h, get("GET", "/"))
	if r.Reset || r.LocalReply == nil || r.LocalReply.Status != 503 || r.Header("x-nedry-fault") != "ar; abort" {
		t.Fatalf("have reset %v, reply %+v, tag %q; want the abort only", r.Reset, r.LocalReply, r.Header("x-nedry-fault"))
	}
	wantMetrics(t, h, with(ruleMetrics("ar"), "nedry.rule.ar.matched", 1, "nedry.rule.ar.aborts_injected", 1))
}

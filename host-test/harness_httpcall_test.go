package hosttest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// callLogs returns the guest's "response ..." log lines, in order.
func callLogs(h *Host) []string {
	var out []string
	for _, l := range h.Logs() {
		if strings.HasPrefix(l.Message, "response ") {
			out = append(out, l.Message)
		}
	}
	return out
}

// proxy_http_call's checks, as Envoy's Context::httpCall: a known cluster,
// :method, :path and :authority, a timeout that is not negative as an
// int32; tokens count from 1 per VM.
func TestHTTPCall_status(t *testing.T) {
	tests := []struct {
		name      string
		headers   []string
		wantSt    string
		wantToken string
	}{
		{"ok", []string{"x-call", "payments"}, "0", "1"},
		{"unknown cluster", []string{"x-call", "nowhere"}, "2", "0"},
		{"no :path", []string{"x-call", "payments", "x-call-omit", ":path"}, "2", "0"},
		{"no :method", []string{"x-call", "payments", "x-call-omit", ":method"}, "2", "0"},
		{"no :authority", []string{"x-call", "payments", "x-call-omit", ":authority"}, "2", "0"},
		{"negative timeout", []string{"x-call", "payments", "x-call-timeout", "4294967295"}, "2", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t, "httpcall", Options{Clusters: map[string]Cluster{"payments": {}}})
			res := h.Do(req(tt.headers...))
			mustNoTrap(t, res)
			if st, tok := hv(res, "x-call-status"), hv(res, "x-call-token"); st != tt.wantSt || tok != tt.wantToken {
				t.Fatalf("status %s token %s, want %s %s", st, tok, tt.wantSt, tt.wantToken)
			}
			if n, want := len(h.HTTPCalls()), map[bool]int{true: 1, false: 0}[tt.wantSt == "0"]; n != want {
				t.Fatalf("%d calls recorded, want %d", n, want)
			}
		})
	}
}

// A call made during a stream callback belongs to the root context (cpp-host
// makes it on root_context()): it outlives the stream, its response goes to
// proxy_on_http_call_response with the root's id after the stream ended.
// The response's
// headers (:status first), body and trailers are readable in the callback.
func TestHTTPCall_response(t *testing.T) {
	var got *UpstreamRequest
	h := newHost(t, "httpcall", Options{Clusters: map[string]Cluster{"payments": {
		Latency: 50 * time.Millisecond,
		Handler: func(_ context.Context, r *UpstreamRequest) (*Response, error) {
			got = r
			return &Response{Status: 201, Headers: [][2]string{{"X-Paid", "yes"}}, Body: []byte("paid"),
				Trailers: [][2]string{{"grpc-status", "0"}}}, nil
		}}}})
	res := h.Do(req(":method", "POST", ":path", "/pay", ":authority", "shop", "x-call", "payments",
		"x-call-body", "amount=1", "x-call-trailer", "k=v", "x-call-timeout", "5000"))
	mustNoTrap(t, res)
	if res.Response == nil || res.Response.Status != 200 {
		t.Fatalf("the stream did not complete untouched: %+v", res.Response)
	}
	calls := h.HTTPCalls()
	if len(calls) != 1 || calls[0].Outcome != "pending" {
		t.Fatalf("calls %+v, want one pending", calls)
	}
	h.Advance(49 * time.Millisecond)
	if n := len(callLogs(h)); n != 0 || got != nil {
		t.Fatalf("answered before the cluster's latency: %d logs", n)
	}
	h.Advance(time.Millisecond)
	logs := callLogs(h)
	want := "response token=1 root=1 headers=2 body=4 trailers=1 status=201 bodytext=paid trailer=26 effective=-"
	if len(logs) != 1 || logs[0] != want {
		t.Fatalf("logs %q, want [%q]", logs, want)
	}
	wantHeaders := [][2]string{{":method", "POST"}, {":path", "/pay"}, {":authority", "shop"},
		{"x-copy", "1"}, {"content-length", "8"}}
	if got == nil || string(got.Body) != "amount=1" || !slices.Equal(got.Headers, wantHeaders) ||
		!slices.Equal(got.Trailers, [][2]string{{"k", "v"}}) {
		t.Fatalf("cluster received %+v, want headers %q, body amount=1, trailers k=v", got, wantHeaders)
	}
	c := h.HTTPCalls()[0]
	if c.Outcome != "response" || c.Response.Status != 201 || c.Timeout != 5*time.Second ||
		c.Done.Sub(c.Sent) != 50*time.Millisecond {
		t.Fatalf("record %+v", c)
	}
}

// Outcomes on the virtual clock: Envoy's 504 when the timeout passes first
// (a response, not a failure), 503 for a connection failure, a reset with
// no response at all, and no timeout when timeout_milliseconds is 0.
func TestHTTPCall_outcomes(t *testing.T) {
	tests := []struct {
		name    string
		cluster Cluster
		timeout string
		advance time.Duration
		outcome string
		log     string
	}{
		{"timeout first", Cluster{Latency: 2 * time.Second}, "1000", time.Second, "timeout",
			"headers=2 body=24 trailers=0 status=504 bodytext=upstream request timeout"},
		{"answer just before the timeout", Cluster{Latency: 999 * time.Millisecond}, "1000", 999 * time.Millisecond, "response",
			"headers=2 body=2 trailers=0 status=200 bodytext=ok"},
		{"no timeout", Cluster{Latency: time.Hour}, "0", time.Hour, "response",
			"headers=2 body=2 trailers=0 status=200 bodytext=ok"},
		{"connection failure", Cluster{Handler: func(context.Context, *UpstreamRequest) (*Response, error) {
			return nil, context.DeadlineExceeded
		}}, "0", 0, "response", "status=503"},
		{"reset", Cluster{Handler: func(context.Context, *UpstreamRequest) (*Response, error) {
			return nil, ErrReset
		}}, "0", 0, "reset", "headers=0 body=0 trailers=0 status= bodytext= trailer=0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t, "httpcall", Options{Clusters: map[string]Cluster{"c": tt.cluster}})
			mustNoTrap(t, h.Do(req("x-call", "c", "x-call-timeout", tt.timeout)))
			if tt.advance > 0 {
				h.Advance(tt.advance - time.Millisecond)
				if c := h.HTTPCalls()[0]; c.Outcome != "pending" {
					t.Fatalf("outcome %s a millisecond early", c.Outcome)
				}
				h.Advance(time.Millisecond)
			} else {
				h.Advance(0)
			}
			c := h.HTTPCalls()[0]
			logs := callLogs(h)
			if c.Outcome != tt.outcome || len(logs) != 1 || !strings.Contains(logs[0], tt.log) {
				t.Fatalf("outcome %s logs %q, want %s and %q", c.Outcome, logs, tt.outcome, tt.log)
			}
		})
	}
}

// A stream may wait for its call: paused until the response, continued
// from the callback through proxy_set_effective_context. And a call made
// from proxy_on_tick (the root context) is sent at the tick.
func TestHTTPCall_waitAndTick(t *testing.T) {
	h := newHost(t, "httpcall", Options{Clusters: map[string]Cluster{"c": {Latency: 100 * time.Millisecond}}})
	res := h.Do(req("x-call", "c", "x-call-wait", "1"))
	mustNoTrap(t, res)
	if res.Held != 100*time.Millisecond || res.Upstream == nil {
		t.Fatalf("held %v, upstream %v: want 100ms and reached", res.Held, res.Upstream != nil)
	}
	if logs := callLogs(h); len(logs) != 1 || !strings.HasSuffix(logs[0], "effective=0") {
		t.Fatalf("logs %q", logs)
	}
	start := h.Now()
	mustNoTrap(t, h.Do(req("x-call", "c", "x-call-from", "tick")))
	h.Advance(time.Second)
	calls := h.HTTPCalls()
	if len(calls) != 2 || calls[1].Sent.Sub(start) != 10*time.Millisecond || calls[1].Outcome != "response" {
		t.Fatalf("tick call %+v, want sent 10ms after the request and answered", calls)
	}
}

// Envoy's Context destructor cancels the calls a context owns: once the
// root that owns a call is deleted (retired by a push), its response never
// reaches the guest, while a call of the new root still does.
func TestHTTPCall_cancelledWithItsRoot(t *testing.T) {
	h := newHost(t, "httpcall", Options{Clusters: map[string]Cluster{"c": {Latency: time.Second}}})
	mustNoTrap(t, h.Do(req("x-call", "c")))
	if err := h.Reconfigure([]byte("next")); err != nil {
		t.Fatal(err)
	}
	mustNoTrap(t, h.Do(req("x-call", "c")))
	h.Advance(time.Second)
	calls := h.HTTPCalls()
	if len(calls) != 2 || calls[0].Outcome != "cancelled" || calls[1].Outcome != "response" {
		t.Fatalf("calls %+v, want the old root's cancelled and the new root's answered", calls)
	}
	if logs := callLogs(h); len(logs) != 1 {
		t.Fatalf("logs %q, want the new root's response only", logs)
	}
}

// Outside proxy_on_http_call_response there is no call response: map type
// 6 answers BadArgument and buffer type 4 NotFound, as Envoy's getMap and
// getBuffer return nothing.
func TestHTTPCall_responseOnlyInItsCallback(t *testing.T) {
	h := newHost(t, "httpcall", Options{})
	res := h.Do(req("x-call-probe", "1"))
	mustNoTrap(t, res)
	if m, b := hv(res, "x-probe-map"), hv(res, "x-probe-buffer"); m != "2" || b != "1" {
		t.Fatalf("map %s buffer %s, want 2 (BadArgument) and 1 (NotFound)", m, b)
	}
}

// On the wall clock (nedry run) a call goes to its cluster on a goroutine
// of its own and its answer reaches the guest when the handler returns;
// the handler's context ends at the call's timeout.
func TestHTTPCall_realTime(t *testing.T) {
	logs := make(chan string, 4)
	release := make(chan struct{})
	h := newHost(t, "httpcall", Options{RealTime: true,
		Logger: func(e LogEntry) {
			if strings.HasPrefix(e.Message, "response ") {
				logs <- e.Message
			}
		},
		Clusters: map[string]Cluster{
			"slow": {Handler: func(ctx context.Context, _ *UpstreamRequest) (*Response, error) {
				<-ctx.Done() // answers only once the call's timeout ends it
				return nil, ctx.Err()
			}},
			"ok": {Handler: func(context.Context, *UpstreamRequest) (*Response, error) {
				<-release
				return &Response{Status: 202}, nil
			}},
		}})
	mustNoTrap(t, h.Do(req("x-call", "ok")))
	mustNoTrap(t, h.Do(req("x-call", "slow", "x-call-timeout", "20")))
	close(release)
	var got []string
	for len(got) < 2 {
		select {
		case l := <-logs:
			got = append(got, l)
		case <-time.After(10 * time.Second):
			t.Fatalf("answers so far %q, want two", got)
		}
	}
	joined := strings.Join(got, "\n")
	if !strings.Contains(joined, "status=202") || !strings.Contains(joined, "status=504") {
		t.Fatalf("answers %q, want a 202 and a 504", got)
	}
}

// Close cancels the calls in flight on the wall clock and waits for them,
// so none outlives its host (nedry run's shutdown): the handler's context
// ends, its answer reaches no guest, and the record says cancelled (and
// keeps no body: a long-running proxy would hold every one).
func TestHTTPCall_closeCancelsRealTime(t *testing.T) {
	entered, returned := make(chan struct{}), make(chan struct{})
	h, err := New(context.Background(), guest(t, "httpcall"), Options{RealTime: true,
		Clusters: map[string]Cluster{"hang": {Handler: func(ctx context.Context, _ *UpstreamRequest) (*Response, error) {
			defer close(returned)
			close(entered)
			<-ctx.Done() // no timeout: only Close ends it
			return nil, ctx.Err()
		}}}})
	if err != nil {
		t.Fatal(err)
	}
	mustNoTrap(t, h.Do(req("x-call", "hang", "x-call-timeout", "0", "x-call-body", "amount=1")))
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the call never reached its cluster")
	}
	closed := make(chan struct{})
	go func() {
		h.Close(context.Background())
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return within 10s")
	}
	select {
	case <-returned:
	default:
		t.Fatal("the call was still running after Close returned")
	}
	if c := h.HTTPCalls(); len(c) != 1 || c[0].Outcome != "cancelled" || c[0].Request.Body != nil {
		t.Fatalf("calls %+v, want one cancelled, without its body", c)
	}
	if logs := callLogs(h); len(logs) != 0 {
		t.Fatalf("logs %q: a cancelled call reached the guest", logs)
	}
}

// The record of calls is bounded, as the log is: a long-running host keeps
// the most recent calls, and the calls dropped from it still complete.
func TestHTTPCall_recordBounded(t *testing.T) {
	h := newHost(t, "httpcall", Options{Clusters: map[string]Cluster{"c": {}}})
	for i := range maxCalls + 1 {
		mustNoTrap(t, h.Do(req("x-call", "c", "x-call-body", itoa(i))))
	}
	h.Advance(0)
	calls := h.HTTPCalls()
	if len(calls) > maxCalls || string(calls[len(calls)-1].Request.Body) != itoa(maxCalls) {
		t.Fatalf("%d records, the last with body %q: want at most %d, the last call's last", len(calls),
			calls[len(calls)-1].Request.Body, maxCalls)
	}
	if n := len(callLogs(h)); n != maxCalls+1 {
		t.Fatalf("%d answers reached the guest, want %d", n, maxCalls+1)
	}
}

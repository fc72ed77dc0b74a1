package hosttest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestStream_delayResumedByTick(t *testing.T) {
	h := newHost(t, "stream", Options{})
	s := h.Start(req("x-delay-ms", "25"))
	if !s.Paused() || s.Done() || h.PausedStreams() != 1 {
		t.Fatalf("paused %t done %t", s.Paused(), s.Done())
	}
	h.Advance(20 * time.Millisecond)
	if !s.Paused() {
		t.Fatal("resumed too early")
	}
	h.Advance(10 * time.Millisecond)
	if !s.Done() {
		t.Fatal("not resumed after the delay")
	}
	r := s.Result()
	mustNoTrap(t, r)
	if r.Held != 30*time.Millisecond {
		t.Fatalf("held %v, want 30ms (ticks every 10ms)", r.Held)
	}
	if v, _ := r.Upstream.Header("x-resumed"); v != "1" {
		t.Fatal("header write from the tick (effective context, paused at request headers) missing")
	}
	// The stream guest exports no proxy_on_log nor body callbacks.
	want := "proxy_on_context_create proxy_on_request_headers proxy_on_response_headers proxy_on_done proxy_on_delete"
	if got := strings.Join(r.Callbacks, " "); got != want {
		t.Fatalf("callbacks: have %s, want %s", got, want)
	}
	if h.PausedStreams() != 0 || h.ActiveStreams() != 0 {
		t.Fatalf("paused %d active %d", h.PausedStreams(), h.ActiveStreams())
	}
}

func TestStream_effectiveContextResetPerCallback(t *testing.T) {
	h := newHost(t, "stream", Options{PluginConfig: []byte("no-effective")})
	r := h.Do(req("x-delay-ms", "5"))
	if !r.Reset || r.ResetBy != "timeout" || r.Upstream != nil {
		t.Fatalf("a continue without proxy_set_effective_context must resume nothing; have %+v", r)
	}
}

func TestStream_localReply(t *testing.T) {
	h := newHost(t, "stream", Options{})
	tests := []struct {
		name       string
		req        Request
		status     int
		grpcStatus int32
		header     [2]string
	}{
		{"plain", req("x-reply", "plain"), 403, -1, [2]string{"content-type", "text/plain"}},
		{"grpc", req("x-reply", "grpc"), 200, 7, [2]string{"grpc-message", "denied"}},
		{"grpc message percent-encoded", req("x-reply", "grpc-raw"), 200, 7, [2]string{"grpc-message", "no%0Away%00 100%25"}},
		{"from a tick", req("x-reply-later", "1"), 403, -1, [2]string{"x-extra", "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.Do(tc.req)
			mustNoTrap(t, r)
			if r.Upstream != nil {
				t.Fatal("the upstream saw a locally answered request")
			}
			if r.LocalReply == nil || r.LocalReply.Details != "test_reply" || r.LocalReply.GRPCStatus != tc.grpcStatus {
				t.Fatalf("local reply: %+v", r.LocalReply)
			}
			if r.Response.Status != tc.status || r.Header(tc.header[0]) != tc.header[1] {
				t.Fatalf("response: %+v", r.Response)
			}
			if r.Header("x-on-response") != itoa(tc.status) {
				t.Fatalf("proxy_on_response_headers did not run on the reply: %+v", r.Response.Headers)
			}
		})
	}
}

// Envoy applies a local reply once the callback that asked for it returns,
// never inside proxy_send_local_response: the guest's later host calls in
// that callback still see its request headers, and the reply's
// proxy_on_response_headers does not run nested inside it.
func TestStream_localReplyAfterCallback(t *testing.T) {
	h := newHost(t, "stream", Options{})
	for _, kind := range []string{"plain", "grpc"} {
		r := h.Do(req("x-reply", kind))
		mustNoTrap(t, r)
		var msgs []string
		for _, l := range r.Logs {
			msgs = append(msgs, l.Message)
		}
		if fmt.Sprint(msgs) != "[after reply: 0]" {
			t.Fatalf("%s reply: guest logs %q, want [after reply: 0] (the request headers still readable, no nested callback)", kind, msgs)
		}
		if r.Header("x-on-response") == "" {
			t.Fatalf("%s reply: proxy_on_response_headers never ran on it", kind)
		}
	}
}

// The effective context resets at every callback: a tick that made stream A
// effective leaves no trace on stream B's next callback, whose host calls
// act on B.
func TestStream_effectiveContextNotCarriedOver(t *testing.T) {
	h := newHost(t, "stream", Options{})
	a := h.Start(req("x-hold", "1"))
	h.Advance(10 * time.Millisecond) // the tick makes a effective, a stays paused
	if !a.Paused() {
		t.Fatal("the held stream was not paused")
	}
	r := h.Do(req("x-mark", "1"))
	mustNoTrap(t, r)
	if r.Upstream == nil {
		t.Fatalf("stream b never reached its upstream: %+v", r)
	}
	if v, _ := r.Upstream.Header("x-marked"); v != "1" {
		t.Fatalf("stream b's own header edit did not reach its upstream: %v", r.Upstream.Headers)
	}
	a.Reset()
	if ra := a.Result(); ra.Trap != nil || !ra.Reset {
		t.Fatalf("stream a: %+v", ra)
	}
}

// What a guest asks for in a push's proxy_on_configure (here: continuing the
// streams an older root holds) is applied when that call returns, as
// cpp-host's DeferAfterCallActions does there, in every worker.
func TestStream_continueFromConfigure(t *testing.T) {
	h := newHost(t, "stream", Options{Workers: 2})
	var held []*Stream
	for i := 0; i < 4; i++ {
		held = append(held, h.Start(req("x-delay-ms", "3600000")))
	}
	if err := h.Reconfigure([]byte("release-all")); err != nil {
		t.Fatalf("Reconfigure: %v", err)
	}
	for i, s := range held {
		r := s.Result()
		if !s.Done() || r.Upstream == nil || r.Response == nil || r.Response.Status != 200 {
			t.Fatalf("stream %d: done %v, upstream %v; want it continued by the push", i, s.Done(), r.Upstream != nil)
		}
	}
	if h.PausedStreams() != 0 || h.ActiveStreams() != 0 {
		t.Fatalf("paused %d, active %d", h.PausedStreams(), h.ActiveStreams())
	}
}

// proxy_set_effective_context with an id no context has: Envoy answers
// BadArgument; strict mode fails the stream loudly, lenient mode answers
// the status and the guest goes on with its own context.
func TestStream_setEffectiveContextUnknown(t *testing.T) {
	t.Run("strict", func(t *testing.T) {
		h := newHost(t, "stream", Options{})
		r := h.Do(req("x-bad-effective", "1"))
		if r.Trap == nil || !strings.Contains(r.Trap.Error(), "unknown context id 2147483647") {
			t.Fatalf("have trap %v, want misuse naming the unknown id", r.Trap)
		}
	})
	t.Run("lenient", func(t *testing.T) {
		h := newHost(t, "stream", Options{Lenient: true})
		r := h.Do(req("x-bad-effective", "1", "x-mark", "1"))
		mustNoTrap(t, r)
		if r.Upstream == nil {
			t.Fatalf("the request never reached the upstream: %+v", r)
		}
		if v, _ := r.Upstream.Header("x-effective-status"); v != "2" {
			t.Fatalf("status: have %q, want 2 (BadArgument)", v)
		}
		if v, _ := r.Upstream.Header("x-marked"); v != "1" {
			t.Fatal("after the refused switch the guest's calls no longer act on its own stream")
		}
	})
}

func TestStream_closeAndReset(t *testing.T) {
	h := newHost(t, "stream", Options{})
	for _, v := range []string{"now", "later"} {
		r := h.Do(req("x-close", v))
		mustNoTrap(t, r)
		if !r.Reset || r.ResetBy != "plugin" || r.Response != nil || r.Upstream != nil {
			t.Fatalf("close %s: %+v", v, r)
		}
	}
	s := h.Start(req("x-delay-ms", "100"))
	h.Advance(10 * time.Millisecond)
	s.Reset()
	r := s.Result()
	if !s.Done() || !r.Reset || r.ResetBy != "client" || r.Upstream != nil {
		t.Fatalf("client reset while paused: %+v", r)
	}
	h.Advance(time.Second) // the tick must not resume a reset stream
	if len(h.Trapped()) != 0 {
		t.Fatalf("traps: %v", h.Trapped())
	}
	r = h.Do(Request{Headers: [][2]string{{"x-delay-ms", "10"}}, ResetAt: ResetAfterRequestHeaders})
	if !r.Reset || r.ResetBy != "client" || r.Upstream != nil {
		t.Fatalf("ResetAfterRequestHeaders: %+v", r)
	}
}

func TestStream_continueNotPausedIsMisuse(t *testing.T) {
	h := newHost(t, "stream", Options{})
	r := h.Do(req("x-bad-continue", "1"))
	if r.Trap == nil || !strings.Contains(r.Trap.Error(), "not paused") {
		t.Fatalf("have %v", r.Trap)
	}
}

// A guest that declines to allocate (returns 0) gets InvalidMemoryAccess (6)
// from the host call, as from cpp-host, and goes on; an allocator that
// answers outside memory or calls a restricted host function is misuse.
func TestMemoryAllocate_declined(t *testing.T) {
	h := newHost(t, "alloc", Options{})
	r := h.Do(req("x-alloc", "zero"))
	mustNoTrap(t, r)
	if v, _ := r.Upstream.Header("x-get-status"); v != "6" {
		t.Fatalf("status of the declined get: have %q, want 6 (InvalidMemoryAccess)", v)
	}
}

func TestMemoryAllocate(t *testing.T) {
	tests := []struct{ mode, want string }{
		{"oob", "outside memory"},
		{"restricted", "restricted_callback"},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			h := newHost(t, "alloc", Options{})
			r := h.Do(req("x-alloc", tc.mode))
			if r.Trap == nil || !strings.Contains(r.Trap.Error(), tc.want) {
				t.Fatalf("have %v, want a trap containing %q", r.Trap, tc.want)
			}
		})
	}
}

func TestFailurePolicy(t *testing.T) {
	tests := []struct {
		policy     FailurePolicy
		wantStatus int
		wantSeen   string // x-seen after the trap: the guest ran again (reload)
	}{
		{FailClosed, 503, ""},
		{FailOpen, 200, ""},
		{FailReload, 200, "1"},
	}
	for _, tc := range tests {
		t.Run(tc.policy.String(), func(t *testing.T) {
			h := newHost(t, "trap", Options{FailurePolicy: tc.policy})
			r := h.Do(req("x-trap", "1"))
			if r.Trap == nil || !strings.Contains(r.Trap.Error(), "wasm") {
				t.Fatalf("trap with wasm stack expected, have %v", r.Trap)
			}
			after := h.Do(req())
			if after.Response.Status != tc.wantStatus {
				t.Fatalf("status after trap: have %d, want %d", after.Response.Status, tc.wantStatus)
			}
			if tc.policy == FailClosed && (after.LocalReply == nil || after.LocalReply.Details != "wasm_fail_stream") {
				t.Fatalf("fail closed: %+v", after.LocalReply)
			}
			if v, _ := after.Upstream.Header("x-seen"); v != tc.wantSeen {
				t.Fatalf("x-seen: have %q, want %q", v, tc.wantSeen)
			}
			if len(h.Trapped()) != 1 {
				t.Fatalf("traps: %v", h.Trapped())
			}
		})
	}
	t.Run("grpc fail closed", func(t *testing.T) {
		h := newHost(t, "trap", Options{})
		h.Do(req("x-trap", "1"))
		r := h.Do(req("content-type", "application/grpc"))
		if r.Response.Status != 200 || r.Header("grpc-status") != "14" || r.LocalReply.GRPCStatus != 14 {
			t.Fatalf("have %+v", r.Response)
		}
	})
}

func TestReconfigure(t *testing.T) {
	h := newHost(t, "buffers", Options{Workers: 2, PluginConfig: []byte("one")})
	err := h.Reconfigure([]byte("refuse"))
	var pe *PushError
	if !errors.As(err, &pe) || pe.Stage != "validation" || !strings.Contains(pe.Reason, "proxy_on_configure returned false") {
		t.Fatalf("have %v", err)
	}
	if len(pe.Logs) == 0 || pe.Logs[len(pe.Logs)-1].Message != "refusing configuration" {
		t.Fatalf("push logs: %v", pe.Logs)
	}
	if err := h.Check([]byte("fine")); err != nil {
		t.Fatal(err)
	}
	if err := h.Reconfigure([]byte("two")); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range h.Logs() {
		if l.Message == "config=two" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("config=two logged by %d workers, want 2", n)
	}
}

func TestReconfigure_drain(t *testing.T) {
	h := newHost(t, "stream", Options{PluginConfig: []byte("slow-done")})
	s := h.Start(req("x-delay-ms", "50"))
	if err := h.Reconfigure([]byte("next")); err != nil {
		t.Fatal(err)
	}
	deleted := func() bool {
		for _, l := range h.Logs() {
			if l.Message == "root deleted 1" {
				return true
			}
		}
		return false
	}
	s2 := h.Start(req("x-delay-ms", "10"))
	h.Advance(20 * time.Millisecond)
	if !s2.Done() || s.Done() {
		t.Fatalf("new root stream done %t, old root stream done %t", s2.Done(), s.Done())
	}
	if deleted() {
		t.Fatal("old root deleted while its stream is paused")
	}
	h.Advance(40 * time.Millisecond) // old stream resumes; proxy_on_done answers false
	if !s.Done() {
		t.Fatal("old root's delay did not complete")
	}
	h.Advance(20 * time.Millisecond) // tick of the old root calls proxy_done
	if !deleted() {
		t.Fatal("old root not deleted after proxy_done")
	}
	if len(h.Trapped()) != 0 {
		t.Fatal(h.Trapped())
	}
}

func TestWorkers_concurrent(t *testing.T) {
	h := newHost(t, "stream", Options{Workers: 4})
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				r := h.Do(req("x-delay-ms", "10"))
				if r.Trap != nil || r.Upstream == nil || r.Response == nil || r.Response.Status != 200 {
					errs <- "bad result"
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if h.ActiveStreams() != 0 || h.PausedStreams() != 0 {
		t.Fatalf("active %d paused %d", h.ActiveStreams(), h.PausedStreams())
	}
}

func TestNoop_floor(t *testing.T) {
	h := newHost(t, "noop", Options{})
	r := h.Do(Request{Body: []byte("x"), Trailers: [][2]string{{"t", "1"}}, Response: &Response{Status: 201, Body: []byte("y"), Trailers: [][2]string{{"u", "2"}}}})
	mustNoTrap(t, r)
	want := "proxy_on_context_create proxy_on_request_headers proxy_on_request_body proxy_on_request_trailers proxy_on_response_headers proxy_on_response_body proxy_on_response_trailers proxy_on_log proxy_on_done proxy_on_delete"
	if got := strings.Join(r.Callbacks, " "); got != want {
		t.Fatalf("have %s, want %s", got, want)
	}
	if r.Response.Status != 201 || string(r.Response.Body) != "y" {
		t.Fatalf("%+v", r.Response)
	}
}

func TestRealTime_waitResumesOnWallClockTicks(t *testing.T) {
	h := newHost(t, "stream", Options{RealTime: true})
	// The guest takes its due time inside proxy_on_request_headers and the
	// host starts counting Held when that callback has returned, so on a
	// loaded machine Held alone can fall short of the 20 ms: the delay is
	// judged from before the request started.
	start := time.Now()
	s := h.Start(req("x-delay-ms", "20"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := s.Wait(ctx)
	if err != nil {
		t.Fatalf("stream never resumed: %v", err)
	}
	mustNoTrap(t, r)
	if r.Upstream == nil || r.Response.Status != 200 || r.Held <= 0 {
		t.Fatalf("%+v", r)
	}
	if took := time.Since(start); took < 20*time.Millisecond {
		t.Fatalf("stream resumed %v after it started, before its 20ms delay", took)
	}
}

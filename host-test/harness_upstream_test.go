package hosttest

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A scripted upstream per request: status, grpc-status, a failed exchange
// (what Envoy answers for an upstream reset before headers) and latency in
// virtual time.
func TestUpstream_scripted(t *testing.T) {
	h := newHost(t, "noop", Options{})
	answer := func(status int, headers ...[2]string) func(context.Context, *UpstreamRequest) (*Response, error) {
		return func(context.Context, *UpstreamRequest) (*Response, error) {
			return &Response{Status: status, Headers: headers}, nil
		}
	}
	r := h.Do(Request{Upstream: answer(503)})
	if r.Response.Status != 503 {
		t.Fatalf("status %d", r.Response.Status)
	}
	r = h.Do(Request{Upstream: answer(200, [2]string{"content-type", "application/grpc"}, [2]string{"grpc-status", "14"})})
	if r.Header("grpc-status") != "14" {
		t.Fatalf("grpc-status %q", r.Header("grpc-status"))
	}
	r = h.Do(Request{Upstream: func(context.Context, *UpstreamRequest) (*Response, error) {
		return nil, errors.New("connection reset")
	}})
	if r.Response.Status != 503 || string(r.Response.Body) != "upstream connect error or disconnect/reset before headers" {
		t.Fatalf("reset upstream: %d %q", r.Response.Status, r.Response.Body)
	}

	start := h.Now()
	s := h.Start(Request{UpstreamLatency: 2 * time.Second, Upstream: answer(200)})
	h.Advance(2*time.Second - time.Nanosecond)
	if s.Done() {
		t.Fatal("answered before its latency")
	}
	h.Advance(time.Nanosecond)
	if !s.Done() || s.Result().Response.Status != 200 {
		t.Fatalf("not answered at its latency: done %v", s.Done())
	}
	// Do waits for it, moving the clock.
	t0 := h.Now()
	if r := h.Do(Request{UpstreamLatency: 1500 * time.Millisecond}); r.Response == nil || h.Now().Sub(t0) != 1500*time.Millisecond {
		t.Fatalf("Do: response %v, clock moved %v", r.Response, h.Now().Sub(t0))
	}
	// A client that resets while waiting gets nothing later.
	s = h.Start(Request{UpstreamLatency: time.Second})
	s.Reset()
	h.Advance(2 * time.Second)
	if r := s.Result(); !r.Reset || r.Response != nil {
		t.Fatalf("reset while waiting: %+v", r)
	}
	if h.Now().Sub(start) != 5500*time.Millisecond {
		t.Fatalf("clock moved %v", h.Now().Sub(start))
	}
}

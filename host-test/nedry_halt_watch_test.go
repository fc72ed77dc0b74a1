package hosttest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// Control requests are watched to their response headers after their
// context is let go (the ABI layer keeps a watch per stream, in a bounded
// table; past it a stream is kept awake as before). These tests hold more
// control requests in flight than the table holds, answer them out of
// order, reset some from the client side, and check that each answered one
// is counted exactly once, through the halt's threshold.

// watchedInFlight starts fail failing and ok healthy control requests of
// rule pay, all in flight at once and answered in an order unrelated to
// their start, with unmatched and other-rule requests among them, and
// client resets of watched streams: some right after their request
// headers, one while in flight. A third of the failing ones are upstream
// resets, which reach the filter as Envoy's 503. It answers them all, checks every stream,
// and returns how many requests rule pay matched.
func watchedInFlight(t *testing.T, h *hosttest.Host, fail, ok int) (matched int64) {
	t.Helper()
	type started struct {
		s      *hosttest.Stream
		status int
		reset  bool
	}
	var all []started
	start := func(path string, status int, latency time.Duration, reset hosttest.ResetPoint) *hosttest.Stream {
		req := get("GET", path)
		req.Upstream = upstreamStatus(status)
		if status == 0 {
			req.Upstream, status = upstreamReset, 503
		}
		req.UpstreamLatency = latency
		req.ResetAt = reset
		s := h.Start(req)
		all = append(all, started{s: s, status: status, reset: reset != hosttest.ResetNone})
		if path == "/pay" {
			matched++
		}
		return s
	}
	var midFlight *hosttest.Stream
	for i, f, o := 0, 0, 0; f+o < fail+ok; i++ {
		status := 200
		if (i%2 == 0 && f < fail) || o == ok {
			status = 503
			if f%3 == 0 {
				status = 0 // an upstream reset
			}
			f++
		} else {
			o++
		}
		latency := time.Duration(1+(i*37)%97) * time.Millisecond
		start("/pay", status, latency, hosttest.ResetNone)
		switch i % 100 {
		case 10:
			start("/none", 500, latency, hosttest.ResetNone)
		case 20:
			start("/other", 500, latency, hosttest.ResetNone)
		case 30:
			start("/pay", 503, latency, hosttest.ResetAfterRequestHeaders)
		case 40:
			if midFlight == nil {
				midFlight = start("/pay", 503, 150*time.Millisecond, hosttest.ResetNone)
				all[len(all)-1].reset = true
			}
		}
	}
	h.Advance(20 * time.Millisecond)
	midFlight.Reset()
	h.Advance(200 * time.Millisecond)
	for i, st := range all {
		if !st.s.Done() {
			t.Fatalf("stream %d not done", i)
		}
		r := st.s.Result()
		if r.Trap != nil {
			t.Fatalf("stream %d: trap %v", i, r.Trap)
		}
		if st.reset {
			if !r.Reset || r.ResetBy != "client" {
				t.Fatalf("stream %d: reset %v by %q, want a client reset", i, r.Reset, r.ResetBy)
			}
			continue
		}
		if r.Response == nil || r.Response.Status != st.status {
			t.Fatalf("stream %d: response %+v, want status %d", i, r.Response, st.status)
		}
	}
	if h.ActiveStreams() != 0 {
		t.Fatalf("%d streams still active", h.ActiveStreams())
	}
	return matched
}

func upstreamReset(context.Context, *hosttest.UpstreamRequest) (*hosttest.Response, error) {
	return nil, errors.New("connection reset by peer")
}

// Each answered control request counts once; a client reset counts not at
// all. With 600 failing and 599 healthy control requests, a halt above 50%
// with min_requests 1199 trips only when none is lost and no reset is
// counted healthy; with 600 and 600 and min_requests 1 it trips when one
// failure too many is counted (twice, or a reset counted as one).
func TestHalt_watchedInFlightCountedOnce(t *testing.T) {
	cfg := func(min int) string {
		return fmt.Sprintf(`{"seed": 5, "rules": [
		  {"name": "pay", "match": {"prefix": "/pay"}, "abort": {"percent": 0},
		   "halt": {"max_error_percent": 50, "max_slow_percent": 99, "slow": "1h", "window": "1m", "min_requests": %d, "cooldown": "1m"}},
		  {"name": "other", "match": {"prefix": "/other"}, "abort": {"percent": 0}}]}`, min)
	}
	tests := []struct {
		name     string
		fail, ok int
		min      int
		halts    int64
	}{
		{"every one counted", 600, 599, 1199, 1},
		{"none counted twice", 600, 600, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newNedry(t, cfg(tc.min), hosttest.Options{})
			matched := watchedInFlight(t, h, tc.fail, tc.ok)
			h.Advance(time.Second)
			wantMetrics(t, h, map[string]int64{"nedry.rule.pay.halts": tc.halts, "nedry.rule.pay.matched": matched})
			noTrap(t, h)
		})
	}
}

// A control request keeps the filter state of one; a gRPC one whose
// status comes in the trailers is counted there.
func TestHalt_watchedStateAndGRPCTrailers(t *testing.T) {
	cfg := `{"seed": 5, "rules": [{"name": "pay", "match": {"prefix": "/pay"}, "abort": {"percent": 0},
	  "halt": {"max_error_percent": 50, "window": "10s", "min_requests": 10, "cooldown": "1m"}}]}`
	h := newNedry(t, cfg, hosttest.Options{})
	for i := 0; i < 10; i++ {
		req := get("POST", "/pay", "content-type", "application/grpc")
		req.Upstream = func(context.Context, *hosttest.UpstreamRequest) (*hosttest.Response, error) {
			return &hosttest.Response{Status: 200, Headers: [][2]string{{"content-type", "application/grpc"}},
				Trailers: [][2]string{{"grpc-status", "14"}}}, nil
		}
		r, _ := run(h, req)
		if r.FilterState["wasm.nedry"] != "pay; control" {
			t.Fatalf("filter state %v, want pay; control", r.FilterState)
		}
	}
	h.Advance(time.Second)
	wantMetrics(t, h, map[string]int64{"nedry.rule.pay.halts": 1})
	noTrap(t, h)
}

// A push or the kill switch while control requests are in flight leaves
// them to finish untouched; their counts belong to the configuration they
// started under, so the new one starts with no halt.
func TestHalt_pushDuringWatchedStreams(t *testing.T) {
	for _, next := range []string{haltConfig, `{"enabled": false}`} {
		t.Run(next[:12], func(t *testing.T) {
			h := newNedry(t, `{"seed": 5, "rules": [{"name": "pay", "match": {"prefix": "/pay"}, "abort": {"percent": 0},
			  "halt": {"max_error_percent": 10, "window": "10s", "min_requests": 20, "cooldown": "1m"}}]}`, hosttest.Options{})
			var streams []*hosttest.Stream
			for i := 0; i < 40; i++ {
				req := get("GET", "/pay")
				req.Upstream = upstreamStatus(503)
				req.UpstreamLatency = time.Duration(10+i) * time.Millisecond
				streams = append(streams, h.Start(req))
			}
			if err := h.Reconfigure([]byte(next)); err != nil {
				t.Fatal(err)
			}
			h.Advance(time.Second)
			for i, s := range streams {
				if r := s.Result(); !s.Done() || r.Response == nil || r.Response.Status != 503 {
					t.Fatalf("stream %d: done %v, response %+v", i, s.Done(), r.Response)
				}
			}
			wantMetrics(t, h, map[string]int64{"nedry.rule.pay.halts": 0, "nedry.rule.pay.halted": 0})
			noTrap(t, h)
		})
	}
}

// The statuses a guardrail reads go into a fixed 16-byte buffer: a longer
// grpc-status in the response headers is declined by the guest, counted as
// no failure, and decides the request there as a short one does; the
// trailers do not get a say. A short failing one in the headers halts.
func TestHalt_longStatusValue(t *testing.T) {
	cfg := `{"seed": 5, "rules": [{"name": "pay", "match": {"prefix": "/pay"}, "abort": {"percent": 0},
	  "halt": {"max_error_percent": 50, "window": "10s", "min_requests": 10, "cooldown": "1m"}}]}`
	for _, tc := range []struct {
		headerStatus string
		halts        int64
	}{
		{"14000000000000000000000000000000", 0},
		{"14", 1},
	} {
		h := newNedry(t, cfg, hosttest.Options{})
		for i := 0; i < 10; i++ {
			req := get("POST", "/pay", "content-type", "application/grpc")
			req.Upstream = func(context.Context, *hosttest.UpstreamRequest) (*hosttest.Response, error) {
				return &hosttest.Response{Status: 200, Headers: [][2]string{{"content-type", "application/grpc"}, {"grpc-status", tc.headerStatus}},
					Trailers: [][2]string{{"grpc-status", "14"}}}, nil
			}
			if r, _ := run(h, req); r.Trap != nil {
				t.Fatalf("grpc-status %q: trap %v", tc.headerStatus, r.Trap)
			}
		}
		h.Advance(time.Second)
		wantMetrics(t, h, map[string]int64{"nedry.rule.pay.matched": 10, "nedry.rule.pay.halts": tc.halts})
		noTrap(t, h)
	}
}

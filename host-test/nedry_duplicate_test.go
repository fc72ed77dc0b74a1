package hosttest_test

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// The duplicate fault, through build/nedry.wasm: copies of a completed
// request sent with proxy_http_call from the root context's tick, their
// answers counted and discarded.

// dupConfig is a configuration whose rule p duplicates POST /payments by
// duplicate, a JSON object.
func dupConfig(duplicate string) string {
	return `{"seed": 1, "rules": [{"name": "p", "match": {"prefix": "/payments", "methods": ["POST"]},
		"duplicate": ` + duplicate + `}]}`
}

// dupHost runs the filter with a cluster "backend" answering status after
// latency; the streams' xds.cluster_name is "backend".
func dupHost(t *testing.T, cfg string, status int, latency time.Duration) *hosttest.Host {
	t.Helper()
	return newNedry(t, cfg, hosttest.Options{
		Properties: map[string]string{"xds.cluster_name": "backend"},
		Clusters: map[string]hosttest.Cluster{"backend": {Latency: latency,
			Handler: func(_ context.Context, _ *hosttest.UpstreamRequest) (*hosttest.Response, error) {
				return &hosttest.Response{Status: status, Body: []byte("answer")}, nil
			}}},
	})
}

func payment(body []byte, headers ...string) hosttest.Request {
	r := get("POST", "/payments", append([]string{":authority", "shop.example", "content-type", "application/json"}, headers...)...)
	r.Body = body
	return r
}

func dupMetric(h *hosttest.Host, counter string) int64 {
	return h.Metric("nedry.rule.p." + counter)
}

// dupCounts returns sent, failed, too large and dropped.
func dupCounts(h *hosttest.Host) [4]int64 {
	return [4]int64{dupMetric(h, "duplicates_sent"), dupMetric(h, "duplicates_failed"),
		dupMetric(h, "duplicates_too_large"), dupMetric(h, "duplicates_dropped")}
}

// TestDuplicate_copies: the copies carry the request as the client sent it
// (headers without hop-by-hop and control headers, the whole body however
// it was chunked), go to the stream's cluster, the first after "after" once
// the original completed and each next one after later, and the client
// sees only the original's answer.
func TestDuplicate_copies(t *testing.T) {
	body := []byte(`{"amount": 10, "currency": "EUR", "note": "` + string(bytes.Repeat([]byte("x"), 3000)) + `"}`)
	tests := []struct {
		name   string
		dup    string
		req    hosttest.Request
		copies int
		after  time.Duration
		body   []byte
	}{
		{"no body", `{"percent": 100}`, payment(nil), 1, 50 * time.Millisecond, nil},
		{"body", `{"percent": 100, "after": "20ms"}`, payment(body), 1, 20 * time.Millisecond, body},
		{"chunked body", `{"percent": 100, "copies": 3, "after": "100ms"}`,
			hosttest.Request{Headers: payment(nil).Headers, Chunks: [][]byte{body[:1], body[1:1000], body[1000:2999], body[2999:]}},
			3, 100 * time.Millisecond, body},
		{"several copies at once", `{"percent": 100, "copies": 4, "after": "0s"}`, payment(body), 4, 0, body},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := dupHost(t, dupConfig(tt.dup), 201, time.Millisecond)
			start := h.Now()
			res := h.Do(tt.req)
			if res.Response == nil || res.Response.Status != 200 || string(res.Response.Body) != "ok" {
				t.Fatalf("the client must see the original's answer: %+v", res.Response)
			}
			if n := len(h.HTTPCalls()); n != 0 {
				t.Fatalf("%d copies sent with the original, want them after it", n)
			}
			if have := res.FilterState["wasm.nedry"]; have != "p; duplicate" {
				t.Fatalf("filter state %q, want %q", have, "p; duplicate")
			}
			h.Advance(tt.after*time.Duration(tt.copies) + time.Second)
			calls := h.HTTPCalls()
			if len(calls) != tt.copies {
				t.Fatalf("%d copies, want %d", len(calls), tt.copies)
			}
			for i, c := range calls {
				if c.Cluster != "backend" || c.Outcome != "response" || c.Timeout != 5*time.Second {
					t.Fatalf("copy %d: cluster %q outcome %q timeout %v", i, c.Cluster, c.Outcome, c.Timeout)
				}
				if !bytes.Equal(c.Request.Body, tt.body) {
					t.Fatalf("copy %d: body of %d bytes, want the %d the client sent", i, len(c.Request.Body), len(tt.body))
				}
				for _, k := range []string{":method", ":path", ":authority", ":scheme", "content-type"} {
					have, _ := c.Request.Header(k)
					want, _ := res.Upstream.Header(k)
					if have != want || have == "" {
						t.Fatalf("copy %d: %s %q, want %q as the original", i, k, have, want)
					}
				}
				// The first copy is due after "after", each next one
				// after later; the tick (5ms) sends it.
				due := start.Add(tt.after * time.Duration(i+1))
				if c.Sent.Before(due) || c.Sent.After(due.Add(6*time.Millisecond)) {
					t.Fatalf("copy %d sent %v after the request, want %v (one tick late at most)", i, c.Sent.Sub(start), due.Sub(start))
				}
			}
			if have, want := dupCounts(h), [4]int64{int64(tt.copies), 0, 0, 0}; have != want {
				t.Fatalf("sent, failed, too large, dropped: have %v, want %v", have, want)
			}
			settled(t, h)
		})
	}
}

// TestDuplicate_headers: connection-specific headers, content-length (the
// host sets it from the body), expect and x-nedry-* never reach a copy;
// everything else does, in order, repeated values included.
func TestDuplicate_headers(t *testing.T) {
	h := dupHost(t, dupConfig(`{"percent": 100}`), 200, time.Millisecond)
	body := []byte(`{"a":1}`)
	r := payment(body, "connection", "keep-alive", "keep-alive", "timeout=5", "proxy-connection", "close",
		"te", "trailers", "trailer", "x-sum", "transfer-encoding", "chunked", "upgrade", "h2c",
		"expect", "100-continue", "content-length", "7", "x-nedry-delay-ms", "5",
		"idempotency-key", "k-1", "x-tag", "a", "x-tag", "b")
	h.Do(r)
	h.Advance(time.Second)
	calls := h.HTTPCalls()
	if len(calls) != 1 {
		t.Fatalf("%d copies, want 1", len(calls))
	}
	var names []string
	for _, kv := range calls[0].Request.Headers {
		names = append(names, kv[0])
	}
	want := []string{":scheme", ":method", ":path", ":authority", "content-type", "idempotency-key", "x-tag", "x-tag", "content-length"}
	if !slices.Equal(names, want) {
		t.Fatalf("copy headers %q, want %q", names, want)
	}
	if v, _ := calls[0].Request.Header("content-length"); v != "7" {
		t.Fatalf("content-length %q, want the host's 7", v)
	}
	if tags := values(calls[0].Request.Headers, "x-tag"); !slices.Equal(tags, []string{"a", "b"}) {
		t.Fatalf("x-tag %q", tags)
	}
}

// TestDuplicate_failures: a copy fails when its cluster is unknown (Envoy
// answers BadArgument), it times out (Envoy answers 504), the upstream
// answers 5xx or resets; a 4xx is an answer like any other.
func TestDuplicate_failures(t *testing.T) {
	tests := []struct {
		name    string
		dup     string
		status  int
		latency time.Duration
		want    [4]int64
	}{
		{"unknown cluster", `{"percent": 100, "copies": 2, "cluster": "nowhere"}`, 200, time.Millisecond, [4]int64{0, 2, 0, 0}},
		{"timeout", `{"percent": 100, "timeout": "100ms"}`, 200, time.Second, [4]int64{1, 1, 0, 0}},
		{"5xx", `{"percent": 100, "copies": 2}`, 503, time.Millisecond, [4]int64{2, 2, 0, 0}},
		{"4xx is an answer", `{"percent": 100}`, 409, time.Millisecond, [4]int64{1, 0, 0, 0}},
		{"configured cluster", `{"percent": 100, "cluster": "backend"}`, 200, time.Millisecond, [4]int64{1, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := dupHost(t, dupConfig(tt.dup), tt.status, tt.latency)
			h.Do(payment([]byte(`{}`)))
			h.Advance(3 * time.Second)
			if have := dupCounts(h); have != tt.want {
				t.Fatalf("sent, failed, too large, dropped: have %v, want %v", have, tt.want)
			}
		})
	}
	t.Run("reset", func(t *testing.T) {
		h := newNedry(t, dupConfig(`{"percent": 100}`), hosttest.Options{
			Properties: map[string]string{"xds.cluster_name": "backend"},
			Clusters: map[string]hosttest.Cluster{"backend": {Handler: func(context.Context, *hosttest.UpstreamRequest) (*hosttest.Response, error) {
				return nil, hosttest.ErrReset
			}}}})
		h.Do(payment(nil))
		h.Advance(time.Second)
		if have, want := dupCounts(h), [4]int64{1, 1, 0, 0}; have != want {
			t.Fatalf("sent, failed, too large, dropped: have %v, want %v", have, want)
		}
	})
}

// TestDuplicate_tooLarge: a request whose body is over max_bytes is not
// duplicated, whether content-length says so at headers or the chunks
// show it; it still goes upstream whole and untouched.
func TestDuplicate_tooLarge(t *testing.T) {
	big := bytes.Repeat([]byte("y"), 2000)
	tests := []struct {
		name string
		req  hosttest.Request
	}{
		{"content-length", payment(big)},
		{"chunks", hosttest.Request{Headers: payment(nil).Headers, Chunks: [][]byte{big[:900], big[900:1800], big[1800:]}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := dupHost(t, dupConfig(`{"percent": 100, "max_bytes": 1000}`), 200, time.Millisecond)
			res := h.Do(tt.req)
			if res.Upstream == nil || !bytes.Equal(res.Upstream.Body, big) {
				t.Fatal("the original must reach the upstream whole")
			}
			h.Advance(time.Second)
			if n := len(h.HTTPCalls()); n != 0 {
				t.Fatalf("%d copies of a request over max_bytes", n)
			}
			if have, want := dupCounts(h), [4]int64{0, 0, 1, 0}; have != want {
				t.Fatalf("sent, failed, too large, dropped: have %v, want %v", have, want)
			}
			if tt.name == "chunks" {
				if have := res.FilterState["wasm.nedry"]; have != "p; control" {
					t.Fatalf("filter state %q once the copy was given up, want %q", have, "p; control")
				}
			}
			settled(t, h)
		})
	}
}

// TestDuplicate_withBodyCorruption: a rule that corrupts the request body
// (which buffers it, so each body callback sees the whole body so far) and
// duplicates the request: the original goes upstream corrupted, the copies
// carry the body the client sent, each byte once.
func TestDuplicate_withBodyCorruption(t *testing.T) {
	const cfg = `{"seed": 1, "rules": [{"name": "p", "corrupt": {"percent": 100,
		"request_body": {"ops": [{"op": "truncate", "length": 5}]}}, "duplicate": {"percent": 100, "copies": 2, "after": "10ms"}}]}`
	h := dupHost(t, cfg, 200, time.Millisecond)
	body := []byte(`{"amount": 10, "currency": "EUR"}`)
	res := h.Do(hosttest.Request{Headers: payment(nil).Headers, Chunks: [][]byte{body[:3], body[3:20], body[20:]}})
	if res.Upstream == nil || string(res.Upstream.Body) != string(body[:5]) {
		t.Fatalf("the original must go upstream truncated: %+v", res.Upstream)
	}
	if have := res.FilterState["wasm.nedry"]; have != "p; corrupt,duplicate" {
		t.Fatalf("filter state %q", have)
	}
	h.Advance(time.Second)
	calls := h.HTTPCalls()
	if len(calls) != 2 {
		t.Fatalf("%d copies, want 2", len(calls))
	}
	for i, c := range calls {
		if !bytes.Equal(c.Request.Body, body) {
			t.Fatalf("copy %d: body %q, want %q", i, c.Request.Body, body)
		}
	}
}

// TestDuplicate_example: examples/duplicate-payments.json, at 100%,
// duplicates a POST to the payments route once, 50ms after it.
func TestDuplicate_example(t *testing.T) {
	cfg, err := os.ReadFile(hosttest.RepoPath("examples", "duplicate-payments.json"))
	if err != nil {
		t.Fatal(err)
	}
	h := dupHost(t, strings.Replace(string(cfg), `"percent": 20`, `"percent": 100`, 1), 201, time.Millisecond)
	r := payment([]byte(`{"amount": 1}`), "idempotency-key", "k-7")
	r.Properties = map[string]string{"xds.route_name": "payments"}
	h.Do(r)
	h.Advance(100 * time.Millisecond)
	calls := h.HTTPCalls()
	if len(calls) != 1 || calls[0].Outcome != "response" {
		t.Fatalf("copies %+v, want one answered", calls)
	}
	if k, _ := calls[0].Request.Header("idempotency-key"); k != "k-7" {
		t.Fatalf("idempotency-key %q", k)
	}
	if have := h.Metric("nedry.rule.payments_duplicate.duplicates_sent"); have != 1 {
		t.Fatalf("duplicates_sent %d", have)
	}
}

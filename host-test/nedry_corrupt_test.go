package hosttest_test

import (
	"fmt"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// printableGarble reports whether v is what garble writes: visible ASCII
// only (0x21..0x7e), so Envoy never sees an invalid header value.
func printableGarble(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

func TestCorrupt_requestOps(t *testing.T) {
	const cfg = `{"seed": 11, "rules": [{"name": "c", "corrupt": {"percent": 100, "request": [
		{"op": "remove", "name": "authorization"},
		{"op": "set", "name": "x-set", "value": "new"},
		{"op": "set", "name": "x-added", "value": "fresh"},
		{"op": "append", "name": "x-app", "value": "2"},
		{"op": "empty", "name": "x-empty"},
		{"op": "truncate", "name": "x-trunc", "length": 3},
		{"op": "truncate", "name": "x-short", "length": 10},
		{"op": "truncate", "name": "x-missing-trunc", "length": 1},
		{"op": "garble", "name": "x-garble"},
		{"op": "garble", "name": "x-missing-garble"},
		{"op": "set", "name": ":path", "value": "/rewritten"}
	]}}]}`
	const garbled = "hello world, 1234567890 / <>?"
	h := newNedry(t, cfg, hosttest.Options{})
	r, id := run(h, get("GET", "/orig?q=1",
		"authorization", "Bearer a", "authorization", "Bearer b",
		"x-set", "old1", "x-set", "old2",
		"x-app", "1",
		"x-empty", "full",
		"x-trunc", "abcdef",
		"x-short", "abc",
		"x-garble", garbled,
		"x-keep", "kept"))
	if r.Trap != nil || r.Upstream == nil {
		t.Fatalf("have trap %v, upstream %v; want the request upstream", r.Trap, r.Upstream)
	}
	up := r.Upstream.Headers
	tests := []struct {
		name string
		want []string
	}{
		{"authorization", nil},
		{"x-set", []string{"new"}},
		{"x-added", []string{"fresh"}},
		{"x-app", []string{"1", "2"}},
		{"x-empty", []string{""}},
		{"x-trunc", []string{"abc"}},
		{"x-short", []string{"abc"}},
		{"x-missing-trunc", nil},
		{"x-missing-garble", nil},
		{":path", []string{"/rewritten"}},
		{":method", []string{"GET"}},
		{"x-keep", []string{"kept"}},
	}
	for _, tc := range tests {
		if have := values(up, tc.name); fmt.Sprintf("%q", have) != fmt.Sprintf("%q", tc.want) {
			t.Errorf("upstream %s: have %q, want %q", tc.name, have, tc.want)
		}
	}
	g := values(up, "x-garble")
	if len(g) != 1 || len(g[0]) != len(garbled) || !printableGarble(g[0]) || g[0] == garbled {
		t.Errorf("x-garble: have %q, want %d printable bytes different from %q", g, len(garbled), garbled)
	}
	if have := r.Header("x-nedry-fault"); have != "c; corrupt" {
		t.Errorf("tag: have %q, want %q", have, "c; corrupt")
	}
	wantLogs(t, r, hosttest.LogLevelDebug, fmt.Sprintf("nedry: rule c: corrupt (stream %d)", id))
	wantMetrics(t, h, with(ruleMetrics("c"), "nedry.rule.c.matched", 1, "nedry.rule.c.corruptions_injected", 1))
}

// truncate and garble on a repeated header act on its first value, which is
// what proxy_get_header_map_value answers in Envoy, on request and response
// alike, and leave one value (proxy_replace_header_map_value).
func TestCorrupt_repeatedHeader(t *testing.T) {
	ops := `[{"op": "truncate", "name": "x-t", "length": 2}, {"op": "garble", "name": "x-g"}]`
	h := newNedry(t, `{"rules": [{"name": "c", "corrupt": {"percent": 100, "request": `+ops+`, "response": `+ops+`}}]}`,
		hosttest.Options{})
	headers := [][2]string{{"x-t", "first"}, {"x-g", "abc"}, {"x-t", "second"}, {"x-g", "longer value"}}
	req := get("GET", "/")
	req.Headers = append(req.Headers, headers...)
	req.Response = &hosttest.Response{Status: 200, Headers: headers}
	r, _ := run(h, req)
	if r.Trap != nil || r.Upstream == nil || r.Response == nil {
		t.Fatalf("have trap %v, upstream %v, response %+v", r.Trap, r.Upstream != nil, r.Response)
	}
	for side, hs := range map[string][][2]string{"upstream": r.Upstream.Headers, "client": r.Response.Headers} {
		if have := values(hs, "x-t"); fmt.Sprint(have) != "[fi]" {
			t.Errorf("%s x-t: have %q, want [fi] (the first value truncated, one left)", side, have)
		}
		if g := values(hs, "x-g"); len(g) != 1 || len(g[0]) != 3 || !printableGarble(g[0]) || g[0] == "abc" {
			t.Errorf("%s x-g: have %q, want one garbled value of the first value's length (3)", side, g)
		}
	}
	wantMetrics(t, h, map[string]int64{"nedry.errors": 0, "nedry.ops_skipped": 0})
}

func TestCorrupt_garbleVaries(t *testing.T) {
	h := newNedry(t, `{"seed": 5, "rules": [{"name": "g", "corrupt": {"percent": 100, "request": [{"op": "garble", "name": "x-id"}]}}]}`, hosttest.Options{})
	const orig = "0123456789abcdef0123456789abcdef"
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		r, _ := run(h, get("GET", "/", "x-id", orig))
		v, _ := r.Upstream.Header("x-id")
		if len(v) != len(orig) || !printableGarble(v) {
			t.Fatalf("garbled %q: want %d visible ASCII bytes", v, len(orig))
		}
		seen[v] = true
	}
	if len(seen) != 50 {
		t.Fatalf("50 garbles gave %d distinct values, want 50", len(seen))
	}
}

func TestCorrupt_responseOps(t *testing.T) {
	const cfg = `{"seed": 2, "rules": [{"name": "rc", "corrupt": {"percent": 100, "response": [
		{"op": "set", "name": "content-type", "value": "text/html"},
		{"op": "status", "value": "502"},
		{"op": "remove", "name": "server"},
		{"op": "append", "name": "vary", "value": "x-chaos"},
		{"op": "empty", "name": "etag"},
		{"op": "truncate", "name": "x-long", "length": 2},
		{"op": "garble", "name": "x-g"}
	]}}]}`
	h := newNedry(t, cfg, hosttest.Options{})
	req := get("GET", "/", "x-req", "untouched")
	req.Response = &hosttest.Response{Status: 200, Body: []byte("payload"), Headers: [][2]string{
		{"content-type", "application/json"}, {"server", "up"}, {"vary", "accept"}, {"etag", `"abc"`},
		{"x-long", "abcdef"}, {"x-g", "garble me"}}}
	r, _ := run(h, req)
	if v, _ := r.Upstream.Header("x-req"); v != "untouched" {
		t.Fatalf("request header changed by response ops: %q", v)
	}
	resp := r.Response
	if resp.Status != 502 || string(resp.Body) != "payload" {
		t.Fatalf("have status %d, body %q; want 502 and the upstream body", resp.Status, resp.Body)
	}
	tests := []struct {
		name string
		want []string
	}{
		{"content-type", []string{"text/html"}},
		{"server", nil},
		{"vary", []string{"accept", "x-chaos"}},
		{"etag", []string{""}},
		{"x-long", []string{"ab"}},
		{"x-nedry-fault", []string{"rc; corrupt"}},
	}
	for _, tc := range tests {
		if have := values(resp.Headers, tc.name); fmt.Sprintf("%q", have) != fmt.Sprintf("%q", tc.want) {
			t.Errorf("response %s: have %q, want %q", tc.name, have, tc.want)
		}
	}
	if g := resp.Header("x-g"); len(g) != len("garble me") || !printableGarble(g) || g == "garble me" {
		t.Errorf("x-g: have %q, want 9 garbled visible bytes", g)
	}
	wantMetrics(t, h, with(ruleMetrics("rc"), "nedry.rule.rc.matched", 1, "nedry.rule.rc.corruptions_injected", 1))
}

// Envoy refuses request-header writes once a stream continued, so the ops
// of a delayed request must run after the delay and before it resumes.
func TestCorrupt_requestOpsAfterDelay(t *testing.T) {
	h := newNedry(t, `{"tick": "5ms", "rules": [{"name": "dc", "delay": {"percent": 100, "fixed": "20ms"},
		"corrupt": {"percent": 100, "request": [{"op": "set", "name": "x-c", "value": "1"}, {"op": "remove", "name": "cookie"}]}}]}`, hosttest.Options{})
	r, _ := run(h, get("GET", "/", "cookie", "a=b"))
	if r.Trap != nil || r.Upstream == nil || r.Held != 20*time.Millisecond {
		t.Fatalf("have trap %v, upstream %v, held %v", r.Trap, r.Upstream, r.Held)
	}
	if v, _ := r.Upstream.Header("x-c"); v != "1" {
		t.Fatalf("x-c upstream: have %q, want 1", v)
	}
	if _, ok := r.Upstream.Header("cookie"); ok {
		t.Fatal("cookie still reached the upstream")
	}
	if have := r.Header("x-nedry-fault"); have != "dc; delay,corrupt" {
		t.Fatalf("tag: have %q", have)
	}
	wantMetrics(t, h, with(ruleMetrics("dc"), "nedry.rule.dc.matched", 1, "nedry.rule.dc.delays_injected", 1, "nedry.rule.dc.corruptions_injected", 1))
	settled(t, h)
}

// Envoy runs proxy_on_response_headers on local replies too; Nedry's own
// aborts must come out exactly as configured.
func TestCorrupt_neverTouchesOwnAbort(t *testing.T) {
	h := newNedry(t, `{"rules": [{"name": "ac", "abort": {"percent": 100, "http_status": 503, "headers": {"x-a": "1"}},
		"corrupt": {"percent": 100, "request": [{"op": "set", "name": "x-q", "value": "1"}],
		"response": [{"op": "status", "value": 200}, {"op": "set", "name": "x-c", "value": "1"}, {"op": "remove", "name": "x-a"}]}}]}`, hosttest.Options{})
	r, _ := run(h, get("GET", "/"))
	if r.LocalReply == nil || r.Response.Status != 503 || r.Header("x-a") != "1" || r.Header("x-c") != "" {
		t.Fatalf("have reply %+v, client %+v; want the configured 503 untouched", r.LocalReply, r.Response)
	}
	if have := r.Header("x-nedry-fault"); have != "ac; abort" {
		t.Fatalf("tag: have %q, want %q", have, "ac; abort")
	}
	wantMetrics(t, h, with(ruleMetrics("ac"), "nedry.rule.ac.matched", 1, "nedry.rule.ac.aborts_injected", 1))
}

package hosttest_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	hosttest "github.com/nedry-chaos/nedry/host-test"
	"github.com/tidwall/gjson"
)

// Body corruption (corrupt.request_body, corrupt.response_body) through the
// compiled filter. The harness runs in strict mode, so every test also
// checks that no body left the filter with a stale content-length.

const bodyJSON = `{"amount":42,"currency":"EUR","items":[{"sku":"a","qty":1},{"sku":"b","qty":2}],"meta":{"id":7}}`

// bodyConfig is one rule at 100% rewriting the request or response body.
func bodyConfig(side, body string) string {
	return `{"seed": 3, "rules": [{"name": "b", "corrupt": {"percent": 100, "` + side + `": ` + body + `}}]}`
}

func jsonRequest(body string, chunks ...string) hosttest.Request {
	r := get("POST", "/pay", "content-type", "application/json")
	if len(chunks) > 0 {
		for _, c := range chunks {
			r.Chunks = append(r.Chunks, []byte(c))
		}
		return r
	}
	r.Headers = append(r.Headers, [2]string{"content-length", strconv.Itoa(len(body))})
	r.Body = []byte(body)
	return r
}

func jsonResponse(body string) *hosttest.Response {
	return &hosttest.Response{Status: 200, Headers: [][2]string{
		{"content-type", "application/json; charset=utf-8"}, {"content-length", strconv.Itoa(len(body))}}, Body: []byte(body)}
}

func TestBody_ops(t *testing.T) {
	tests := []struct {
		name  string
		ops   string
		check func(body string) string // what is wrong, or ""
	}{
		{"set", `[{"op": "set", "path": "amount", "value": -1}]`, func(b string) string {
			return wantJSON(b, "amount", "-1")
		}},
		{"set nested object", `[{"op": "set", "path": "items.1.qty", "value": {"n": 1}}]`, func(b string) string {
			return wantJSON(b, "items.1.qty", `{"n":1}`)
		}},
		{"remove", `[{"op": "remove", "path": "currency"}]`, func(b string) string {
			if gjson.Get(b, "currency").Exists() || !gjson.Valid(b) {
				return "currency still there"
			}
			return wantJSON(b, "amount", "42")
		}},
		{"retype number", `[{"op": "retype", "path": "amount"}]`, func(b string) string { return wantJSON(b, "amount", `"42"`) }},
		{"retype string", `[{"op": "retype", "path": "currency"}]`, func(b string) string { return wantJSON(b, "currency", `null`) }},
		{"retype object", `[{"op": "retype", "path": "meta"}]`, func(b string) string { return wantJSON(b, "meta", `"{\"id\":7}"`) }},
		{"truncate", `[{"op": "truncate", "length": 10}]`, func(b string) string {
			if b != bodyJSON[:10] {
				return "not the first 10 bytes"
			}
			return ""
		}},
		{"garble", `[{"op": "garble", "count": 5}]`, func(b string) string {
			diff := 0
			for i := range b {
				if b[i] != bodyJSON[i] {
					diff++
				}
			}
			if len(b) != len(bodyJSON) || diff == 0 || diff > 5 {
				return strconv.Itoa(diff) + " bytes differ, want 1 to 5 at the same length"
			}
			return ""
		}},
		{"replace", `[{"op": "replace", "value": "not json"}]`, func(b string) string {
			if b != "not json" {
				return "not replaced"
			}
			return ""
		}},
		{"ops in order", `[{"op": "set", "path": "amount", "value": 0}, {"op": "remove", "path": "items.0"}]`, func(b string) string {
			if msg := wantJSON(b, "amount", "0"); msg != "" {
				return msg
			}
			return wantJSON(b, "items.0.sku", `"b"`)
		}},
	}
	for _, tc := range tests {
		for _, side := range []string{"request_body", "response_body"} {
			t.Run(tc.name+" "+side, func(t *testing.T) {
				h := newNedry(t, bodyConfig(side, `{"ops": `+tc.ops+`}`), hosttest.Options{})
				req := jsonRequest(bodyJSON)
				req.Response = jsonResponse(bodyJSON)
				r, _ := run(h, req)
				if r.Trap != nil {
					t.Fatalf("trap: %v", r.Trap)
				}
				got, other := string(r.Upstream.Body), string(r.Response.Body)
				hdrs := r.Upstream.Headers
				otherHdrs := r.Response.Headers
				if side == "response_body" {
					got, other = other, got
					hdrs, otherHdrs = otherHdrs, hdrs
				}
				if msg := tc.check(got); msg != "" {
					t.Fatalf("%s: %s: %s", side, msg, got)
				}
				if other != bodyJSON {
					t.Fatalf("the other body changed: %s", other)
				}
				if v := values(hdrs, "content-length"); len(v) != 0 {
					t.Fatalf("content-length %v left on the rewritten body", v)
				}
				if v := values(otherHdrs, "content-length"); len(v) != 1 {
					t.Fatalf("content-length %v of the untouched body", v)
				}
				if r.Header("x-nedry-fault") != "b; corrupt" {
					t.Fatalf("tag %q", r.Header("x-nedry-fault"))
				}
				wantMetrics(t, h, map[string]int64{"nedry.rule.b.corruptions_injected": 1,
					"nedry.rule.b.body_ops_skipped": 0, "nedry.rule.b.bodies_too_large": 0})
				settled(t, h)
			})
		}
	}
}

func wantJSON(body, path, raw string) string {
	if !gjson.Valid(body) {
		return "not valid JSON"
	}
	if v := gjson.Get(body, path); v.Raw != raw {
		return path + " is " + v.Raw + ", want " + raw
	}
	return ""
}

// TestBody_leftAlone: bodies an op does not apply to pass unmodified with
// their content-length, and the reason is counted where there is one.
func TestBody_leftAlone(t *testing.T) {
	big := `{"pad":"` + strings.Repeat("x", 200) + `"}`
	tests := []struct {
		name        string
		body        string // rule's request_body
		req         hosttest.Request
		wantSkipped int64
		wantLarge   int64
		wantCount   int64 // corruptions_injected
		keepLength  bool
	}{
		{"not JSON", `{"ops": [{"op": "set", "path": "a", "value": 1}], "content_type": ""}`,
			withBody(get("POST", "/x", "content-type", "text/plain"), "a=1"), 1, 0, 1, false},
		{"path absent", `{"ops": [{"op": "remove", "path": "nope"}]}`,
			jsonRequest(bodyJSON), 1, 0, 1, false},
		{"content type does not match", `{"ops": [{"op": "set", "path": "amount", "value": 1}]}`,
			withBody(get("POST", "/x", "content-type", "text/plain"), bodyJSON), 0, 0, 0, true},
		{"gRPC never gets JSON ops", `{"ops": [{"op": "set", "path": "amount", "value": 1}], "content_type": ""}`,
			withBody(get("POST", "/x", "content-type", "application/grpc+json"), bodyJSON), 0, 0, 0, true},
		{"content-length over max_bytes", `{"ops": [{"op": "truncate", "length": 1}], "max_bytes": 100}`,
			jsonRequest(big), 0, 1, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newNedry(t, bodyConfig("request_body", tc.body), hosttest.Options{})
			r, _ := run(h, tc.req)
			if r.Trap != nil {
				t.Fatalf("trap: %v", r.Trap)
			}
			if string(r.Upstream.Body) != string(tc.req.Body) {
				t.Fatalf("body changed: %s", r.Upstream.Body)
			}
			if v := values(r.Upstream.Headers, "content-length"); (len(v) == 1) != tc.keepLength {
				t.Fatalf("content-length upstream: %v, want kept %v", v, tc.keepLength)
			}
			wantMetrics(t, h, map[string]int64{"nedry.rule.b.corruptions_injected": tc.wantCount,
				"nedry.rule.b.body_ops_skipped": tc.wantSkipped, "nedry.rule.b.bodies_too_large": tc.wantLarge})
			settled(t, h)
		})
	}
}

func withBody(r hosttest.Request, body string) hosttest.Request {
	r.Headers = append(r.Headers, [2]string{"content-length", strconv.Itoa(len(body))})
	r.Body = []byte(body)
	return r
}

// TestBody_chunked: a body without content-length arrives in many chunks;
// it is buffered whole and rewritten, or, when it grows past max_bytes,
// sent on unmodified (and counted) before the buffer can reach Envoy's
// limit, so the client never gets a 413 Nedry was not asked for.
func TestBody_chunked(t *testing.T) {
	var chunks []string
	for i := 0; i < len(bodyJSON); i += 7 {
		chunks = append(chunks, bodyJSON[i:min(i+7, len(bodyJSON))])
	}
	h := newNedry(t, bodyConfig("request_body", `{"ops": [{"op": "set", "path": "meta.id", "value": "x"}]}`), hosttest.Options{})
	r, _ := run(h, jsonRequest("", chunks...))
	if r.Trap != nil {
		t.Fatalf("trap: %v", r.Trap)
	}
	if msg := wantJSON(string(r.Upstream.Body), "meta.id", `"x"`); msg != "" {
		t.Fatalf("%s: %s", msg, r.Upstream.Body)
	}
	if n := countOf(r.Callbacks, "proxy_on_request_body"); n != len(chunks) {
		t.Fatalf("%d body callbacks for %d chunks", n, len(chunks))
	}

	const limit = 4096
	h = newNedry(t, bodyConfig("request_body", `{"ops": [{"op": "truncate", "length": 1}], "max_bytes": `+strconv.Itoa(limit)+`}`),
		hosttest.Options{BufferLimit: limit})
	var big []string
	for i := 0; i < 20; i++ {
		big = append(big, strings.Repeat("y", 500))
	}
	r, _ = run(h, jsonRequest("", big...))
	if r.Trap != nil || r.Upstream == nil {
		t.Fatalf("trap %v, upstream %v (local reply %+v)", r.Trap, r.Upstream, r.LocalReply)
	}
	if len(r.Upstream.Body) != 20*500 {
		t.Fatalf("upstream got %d bytes, want all %d unmodified", len(r.Upstream.Body), 20*500)
	}
	wantMetrics(t, h, map[string]int64{"nedry.rule.b.bodies_too_large": 1})
	settled(t, h)
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

// TestBody_quietStreams: streams that no body rule concerns keep their
// callbacks and host calls: a rule with body ops that draws no fault, and
// another rule's stream, cost what a header-only rule's do.
func TestBody_quietStreams(t *testing.T) {
	const cfg = `{"seed": 1, "rules": [
		{"name": "never", "match": {"prefix": "/never"}, "corrupt": {"percent": 0, "request_body": {"ops": [{"op": "truncate", "length": 1}]}, "response_body": {"ops": [{"op": "truncate", "length": 1}]}}},
		{"name": "plain", "match": {"prefix": "/plain"}, "abort": {"percent": 0}}]}`
	h := newNedry(t, cfg, hosttest.Options{})
	calls := func(path string) (uint64, []string) {
		req := jsonRequest(bodyJSON)
		req.Headers[1][1] = path
		req.Response = jsonResponse(bodyJSON)
		c0 := h.HostCalls()
		r, _ := run(h, req)
		if string(r.Upstream.Body) != bodyJSON || string(r.Response.Body) != bodyJSON {
			t.Fatalf("%s: bodies changed", path)
		}
		return h.HostCalls() - c0, r.Callbacks
	}
	calls("/plain")
	plain, plainCBs := calls("/plain")
	never, neverCBs := calls("/never")
	other, _ := calls("/other")
	if never != plain || other > plain {
		t.Fatalf("host calls: body rule without fault %d, header rule %d, no match %d", never, plain, other)
	}
	if strings.Join(neverCBs, ",") != strings.Join(plainCBs, ",") {
		t.Fatalf("callbacks:\nbody rule %v\nheader rule %v", neverCBs, plainCBs)
	}
}

// TestBody_headersOnly: a request or response without a body (end of
// stream at headers) is never armed, so nothing is counted or tagged as
// corrupted and the stream stays quiet.
func TestBody_headersOnly(t *testing.T) {
	const cfg = `{"rules": [{"name": "b", "corrupt": {"percent": 100,
		"request_body": {"ops": [{"op": "garble", "count": 1}]}, "response_body": {"ops": [{"op": "garble", "count": 1}]}}}]}`
	h := newNedry(t, cfg, hosttest.Options{})
	r, _ := run(h, hosttest.Request{Headers: [][2]string{{":method", "GET"}, {":path", "/x"}}, Response: &hosttest.Response{Status: 204}})
	if r.Trap != nil || r.Response == nil || r.Response.Status != 204 {
		t.Fatalf("trap %v, response %+v", r.Trap, r.Response)
	}
	if tag := r.Header("x-nedry-fault"); tag != "" {
		t.Fatalf("tag %q on a stream without bodies", tag)
	}
	wantMetrics(t, h, map[string]int64{"nedry.rule.b.matched": 1, "nedry.rule.b.corruptions_injected": 0})
	settled(t, h)
}

// TestBody_badDataExample keeps the README's "Is my service safe from bad
// data?" walkthrough true: with examples/bad-data.json, u1, u2 and u4 are
// hit on every request, u3, u5, u6 and requests without a user never.
func TestBody_badDataExample(t *testing.T) {
	cfg, err := os.ReadFile(hosttest.RepoPath("examples", "bad-data.json"))
	if err != nil {
		t.Fatal(err)
	}
	h := newNedry(t, string(cfg), hosttest.Options{Workers: 2})
	const body = `{"amount":42,"qty":2}`
	for _, tc := range []struct {
		user string
		hit  bool
	}{{"u1", true}, {"u2", true}, {"u3", false}, {"u4", true}, {"u5", false}, {"u6", false}, {"", false}} {
		for i := 0; i < 3; i++ {
			req := withBody(get("POST", "/orders", "content-type", "application/json"), body)
			if tc.user != "" {
				req.Headers = append(req.Headers, [2]string{"x-user-id", tc.user})
			}
			r, _ := run(h, req)
			if r.Trap != nil {
				t.Fatalf("%s: trap: %v", tc.user, r.Trap)
			}
			want := body
			if tc.hit {
				want = `{"amount":-1,"qty":"2"}`
			}
			if string(r.Upstream.Body) != want {
				t.Fatalf("user %q, request %d: upstream got %s, want %s", tc.user, i, r.Upstream.Body, want)
			}
		}
	}
}

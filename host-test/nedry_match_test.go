package hosttest_test

import (
	"fmt"
	"testing"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// Every rule aborts with its own status, so the status says which rule won.
const matchConfig = `{"rules": [
	{"name": "route", "match": {"route_name": "r1"}, "abort": {"percent": 100, "http_status": 501}},
	{"name": "vhost", "match": {"virtual_host": "vh1"}, "abort": {"percent": 100, "http_status": 502}},
	{"name": "cluster", "match": {"cluster": "c1"}, "abort": {"percent": 100, "http_status": 503}},
	{"name": "exact", "match": {"path": "/exact"}, "abort": {"percent": 100, "http_status": 504}},
	{"name": "prefix", "match": {"prefix": "/api/"}, "abort": {"percent": 100, "http_status": 505}},
	{"name": "shadowed", "match": {"path": "/api/x"}, "abort": {"percent": 100, "http_status": 599}},
	{"name": "regex", "match": {"regex": "^/v[0-9]+/pay$"}, "abort": {"percent": 100, "http_status": 506}},
	{"name": "methods", "match": {"prefix": "/m", "methods": ["DELETE", "PUT"]}, "abort": {"percent": 100, "http_status": 507}},
	{"name": "authority", "match": {"authority": "api.example.com"}, "abort": {"percent": 100, "http_status": 508}},
	{"name": "exact-header", "match": {"headers": [{"name": "x-group", "exact": "beta"}]}, "abort": {"percent": 100, "http_status": 509}},
	{"name": "present", "match": {"headers": [{"name": "x-canary", "present": true}]}, "abort": {"percent": 100, "http_status": 510}},
	{"name": "inverted", "match": {"prefix": "/inv", "headers": [{"name": "user-agent", "regex": "curl/.*", "invert": true}]}, "abort": {"percent": 100, "http_status": 511}},
	{"name": "absent", "match": {"prefix": "/abs", "headers": [{"name": "x-debug", "present": false}]}, "abort": {"percent": 100, "http_status": 512}},
	{"name": "kinds", "match": {"prefix": "/k", "headers": [{"name": "x-a", "prefix": "pre"}, {"name": "x-b", "suffix": "suf"}, {"name": "x-c", "contains": "mid"}]}, "abort": {"percent": 100, "http_status": 513}},
	{"name": "all", "match": {"route_name": "r2", "cluster": "c2", "prefix": "/all", "methods": ["POST"]}, "abort": {"percent": 100, "http_status": 514}}
]}`

func TestMatch_rules(t *testing.T) {
	h := newNedry(t, matchConfig, hosttest.Options{})
	props := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name   string
		req    hosttest.Request
		props  map[string]string
		want   int // abort status; 0: passes untouched
		winner string
	}{
		{"route name", get("GET", "/"), props("xds.route_name", "r1"), 501, "route"},
		{"other route name", get("GET", "/"), props("xds.route_name", "r9"), 0, ""},
		{"virtual host", get("GET", "/"), props("xds.virtual_host_name", "vh1"), 502, "vhost"},
		{"cluster", get("GET", "/"), props("xds.cluster_name", "c1"), 503, "cluster"},
		{"route beats cluster by order", get("GET", "/"), props("xds.cluster_name", "c1", "xds.route_name", "r1"), 501, "route"},
		{"exact path", get("GET", "/exact"), nil, 504, "exact"},
		{"exact path ignores the query", get("GET", "/exact?a=1&b=2"), nil, 504, "exact"},
		{"exact path is not a prefix", get("GET", "/exact/"), nil, 0, ""},
		{"prefix", get("GET", "/api/users"), nil, 505, "prefix"},
		{"first match wins over a later exact", get("GET", "/api/x"), nil, 505, "prefix"},
		{"prefix needs the slash", get("GET", "/api"), nil, 0, ""},
		{"regex", get("GET", "/v2/pay"), nil, 506, "regex"},
		{"regex without the query", get("GET", "/v10/pay?amount=3"), nil, 506, "regex"},
		{"regex anchored", get("GET", "/v2/pay/x"), nil, 0, ""},
		{"method listed", get("DELETE", "/m"), nil, 507, "methods"},
		{"second method listed", get("PUT", "/m1"), nil, 507, "methods"},
		{"method not listed", get("GET", "/m"), nil, 0, ""},
		{"authority", get("GET", "/", ":authority", "api.example.com"), nil, 508, "authority"},
		{"other authority", get("GET", "/", ":authority", "www.example.com"), nil, 0, ""},
		{"header exact", get("GET", "/", "x-group", "beta"), nil, 509, "exact-header"},
		{"header exact differs", get("GET", "/", "x-group", "betamax"), nil, 0, ""},
		{"header present", get("GET", "/", "x-canary", ""), nil, 510, "present"},
		{"inverted regex, no user agent", get("GET", "/inv"), nil, 511, "inverted"},
		{"inverted regex, other agent", get("GET", "/inv", "user-agent", "firefox"), nil, 511, "inverted"},
		{"inverted regex, curl", get("GET", "/inv", "user-agent", "curl/8.0"), nil, 0, ""},
		{"present false, absent", get("GET", "/abs"), nil, 512, "absent"},
		{"present false, present", get("GET", "/abs", "x-debug", "1"), nil, 0, ""},
		{"prefix suffix contains", get("GET", "/k", "x-a", "prefix", "x-b", "endsuf", "x-c", "amidst"), nil, 513, "kinds"},
		{"one header condition fails", get("GET", "/k", "x-a", "prefix", "x-b", "endsuf", "x-c", "none"), nil, 0, ""},
		{"all conditions", get("POST", "/all/1"), props("xds.route_name", "r2", "xds.cluster_name", "c2"), 514, "all"},
		{"all but the method", get("GET", "/all/1"), props("xds.route_name", "r2", "xds.cluster_name", "c2"), 0, ""},
		{"all but the cluster", get("POST", "/all/1"), props("xds.route_name", "r2"), 0, ""},
	}
	matched := map[string]int64{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Properties = tc.props
			r, _ := run(h, tc.req)
			if r.Trap != nil {
				t.Fatalf("trap: %v", r.Trap)
			}
			if tc.want == 0 {
				if r.LocalReply != nil || r.Upstream == nil || r.Response.Status != 200 {
					t.Fatalf("have reply %+v, upstream %v; want the request to pass", r.LocalReply, r.Upstream)
				}
				return
			}
			if r.LocalReply == nil || r.LocalReply.Status != tc.want {
				t.Fatalf("have reply %+v, want status %d from rule %s", r.LocalReply, tc.want, tc.winner)
			}
			if have, want := r.Header("x-nedry-fault"), tc.winner+"; abort"; have != want {
				t.Fatalf("tag: have %q, want %q", have, want)
			}
			matched[tc.winner]++
		})
	}
	for _, name := range []string{"route", "vhost", "cluster", "exact", "prefix", "shadowed", "regex", "methods",
		"authority", "exact-header", "present", "inverted", "absent", "kinds", "all"} {
		if have := h.Metric("nedry.rule." + name + ".matched"); have != matched[name] {
			t.Errorf("nedry.rule.%s.matched: have %d, want %d", name, have, matched[name])
		}
	}
}

// A request that matches no rule must reach the upstream exactly as sent,
// and its response the client exactly as the upstream sent it.
func TestMatch_noMatchPassesUntouched(t *testing.T) {
	h := newNedry(t, matchConfig, hosttest.Options{})
	headers := [][2]string{{":method", "POST"}, {":path", "/nothing/here?q=%20x"}, {":authority", "svc.local"}, {":scheme", "https"},
		{"content-type", "application/json"}, {"x-multi", "1"}, {"x-multi", "2"}, {"x-empty", ""}, {"user-agent", "curl/8.0"}}
	body := []byte(`{"a": [1, 2, 3]}` + "\x00\xff binary tail")
	trailers := [][2]string{{"x-checksum", "abc"}}
	resp := &hosttest.Response{Status: 207, Headers: [][2]string{{"content-type", "text/plain"}, {"set-cookie", "a=1"}, {"set-cookie", "b=2"}},
		Body: []byte("multi\nline"), Trailers: [][2]string{{"grpc-status", "0"}}}
	req := hosttest.Request{Headers: headers, Body: body, Trailers: trailers, Response: resp}
	r, _ := run(h, req)
	if r.Trap != nil || r.Upstream == nil || r.Response == nil {
		t.Fatalf("have trap %v, upstream %v, response %v", r.Trap, r.Upstream, r.Response)
	}
	same := func(what string, have, want any) {
		t.Helper()
		if fmt.Sprintf("%q", have) != fmt.Sprintf("%q", want) {
			t.Errorf("%s:\nhave %q\nwant %q", what, have, want)
		}
	}
	same("upstream headers", r.Upstream.Headers, headers)
	same("upstream body", r.Upstream.Body, body)
	same("upstream trailers", r.Upstream.Trailers, trailers)
	same("client status", r.Response.Status, resp.Status)
	same("client headers", r.Response.Headers, resp.Headers)
	same("client body", r.Response.Body, resp.Body)
	same("client trailers", r.Response.Trailers, resp.Trailers)
	wantCallbacks(t, r, "proxy_on_context_create", "proxy_on_request_headers", "proxy_on_request_body", "proxy_on_request_trailers",
		"proxy_on_response_headers", "proxy_on_response_body", "proxy_on_response_trailers", "proxy_on_log", "proxy_on_done", "proxy_on_delete")
	if len(r.Logs) != 0 {
		t.Errorf("logs for an untouched request: %v", r.Logs)
	}
	for n, m := range h.Metrics() {
		if m.Value != 0 {
			t.Errorf("metric %s = %d after an unmatched request, want 0", n, m.Value)
		}
	}
}

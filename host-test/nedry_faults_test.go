package hosttest_test

import (
	"fmt"
	"testing"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

func TestFault_abort(t *testing.T) {
	tests := []struct {
		name       string
		abort      string
		extra      string // top-level config keys
		wantStatus int
		wantBody   string
		wantHeads  [][2]string // headers the client must see, besides the tag
		wantTag    string
	}{
		{"default body", `{"percent": 100}`, ``, 503, "nedry fault: abort", nil, "a; abort"},
		{"custom status, body and headers",
			`{"percent": 100, "http_status": 429, "body": "slow down", "headers": {"retry-after": "1", "x-why": "chaos"}}`,
			``, 429, "slow down", [][2]string{{"retry-after", "1"}, {"x-why", "chaos"}}, "a; abort"},
		{"empty body", `{"percent": 100, "http_status": 500, "body": ""}`, ``, 500, "", nil, "a; abort"},
		{"tag renamed", `{"percent": 100}`, `"response_header": "x-chaos",`, 503, "nedry fault: abort", nil, "a; abort"},
		{"tag off", `{"percent": 100}`, `"response_header": "",`, 503, "nedry fault: abort", nil, ""},
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
			for _, kv := range tc.wantHeads {
				if have := values(r.Response.Headers, kv[0]); len(have) != 1 || have[0] != kv[1] {
					t.Fatalf("header %s: have %q, want [%q]", kv[0], have, kv[1])
				}
			}
			tagName := "x-nedry-fault"
			if tc.extra == `"response_header": "x-chaos",` {
				tagName = "x-chaos"
				if have := values(r.Response.Headers, "x-nedry-fault"); len(have) != 0 {
					t.Fatalf("x-nedry-fault: have %q, want none when renamed", have)
				}
			}
			have := values(r.Response.Headers, tagName)
			switch {
			case tc.wantTag == "" && len(have) != 0:
				t.Fatalf("%s: have %q, want none", tagName, have)
			case tc.wantTag != "" && (len(have) != 1 || have[0] != tc.wantTag):
				t.Fatalf("%s: have %q, want [%q]", tagName, have, tc.wantTag)
			}
			if tc.wantTag == "" {
				for _, kv := range r.Response.Headers {
					if kv[0] == "x-nedry-fault" {
						t.Fatalf("tag off, but the reply has %v", kv)
					}
				}
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


package hosttest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// x-nedry-* request trailers never reach the upstream, whatever header
// control says, and are never honoured: a control trailer neither aborts
// nor delays. Each case takes a different path through the filter: a quiet
// stream (no rule), a stream the filter keeps (response corruption), one
// held by a delay before its trailers come, header control on, and the
// kill switch.
func TestTrailers_controlStripped(t *testing.T) {
	const secret = `"header_control": {"enabled": true, "secret": "s3cret"}`
	tests := []struct {
		name, cfg string
		held      time.Duration
		tag       string
	}{
		{"quiet stream", `{}`, 0, ""},
		{"header control on", `{` + secret + `}`, 0, ""},
		{"kill switch", `{"enabled": false, ` + secret + `}`, 0, ""},
		{"stream kept for its response", `{"rules": [{"name": "c", "corrupt": {"percent": 100,
		  "response": [{"op": "set", "name": "x-c", "value": "1"}]}}]}`, 0, "c; corrupt"},
		{"held by a delay first", `{"rules": [{"name": "d", "delay": {"percent": 100, "fixed": "20ms"}}]}`, 20 * time.Millisecond, "d; delay"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newNedry(t, tc.cfg, hosttest.Options{})
			req := get("POST", "/upload", "x-keep", "h")
			req.Body = []byte("body")
			req.Trailers = [][2]string{{"x-nedry-secret", "s3cret"}, {"x-nedry-abort", "418"}, {"x-trailer", "t"},
				{"X-Nedry-Delay-Ms", "50"}, {"x-nedry-abort", "419"}}
			r, _ := run(h, req)
			if r.Trap != nil || r.LocalReply != nil || r.Upstream == nil || r.Held != tc.held {
				t.Fatalf("have trap %v, reply %+v, upstream %v, held %v; want the request upstream after %v",
					r.Trap, r.LocalReply, r.Upstream != nil, r.Held, tc.held)
			}
			if have := fmt.Sprint(r.Upstream.Trailers); have != "[[x-trailer t]]" {
				t.Fatalf("upstream trailers: have %s, want [[x-trailer t]] (x-nedry-* removed, the rest kept)", have)
			}
			if v, _ := r.Upstream.Header("x-keep"); v != "h" {
				t.Fatal("request headers must reach the upstream")
			}
			if have := r.Header("x-nedry-fault"); have != tc.tag {
				t.Fatalf("tag: have %q, want %q", have, tc.tag)
			}
			for _, l := range logsAt(h.Logs(), hosttest.LogLevelDebug) {
				if strings.Contains(l, "header_control") {
					t.Fatalf("a control trailer was honoured: %s", l)
				}
			}
			wantMetrics(t, h, map[string]int64{"nedry.errors": 0})
			settled(t, h)
			noTrap(t, h)
		})
	}
}

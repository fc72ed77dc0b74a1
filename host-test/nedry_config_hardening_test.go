package hosttest_test

import (
	"fmt"
	"strings"
	"testing"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// The key refusals of the hardened validator, through the compiled module:
// each config is refused by the validation VM with exactly this error line.
func TestConfig_hardeningRefusedAtLoad(t *testing.T) {
	const pre = "nedry: invalid configuration: "
	rule := func(body string) string { return `{"rules": [{"name": "x", ` + body + `}]}` }
	ops := func(dir, op string) string { return rule(`"corrupt": {"percent": 1, "` + dir + `": [` + op + `]}`) }
	integer := "must be an integer written in plain digits (no fraction, exponent or -0)"
	framing := "must not be a framing or hop-by-hop header (content-length, transfer-encoding, connection, keep-alive, proxy-connection, upgrade, te, trailer), which Envoy manages"
	tests := []struct{ name, cfg, want string }{
		{"regex program", rule(`"match": {"regex": "[a-z0-9]{1,256}\\.json$"}, "reset": {"percent": 1}`),
			`rules[0] (x).match.regex: regular expression too large: its program has 519 instructions, at most 100, got "[a-z0-9]{1,256}\\.json$"`},
		{"regex expansion", rule(`"match": {"regex": "\\w{1,1000}x"}, "reset": {"percent": 1}`),
			`rules[0] (x).match.regex: regular expression too large: its program has more than 1000 instructions, at most 100, got "\\w{1,1000}x"`},
		{"regex budget", `{"rules": [` + regexRuleList(3) + `]}`,
			`rules[2] (r2).match.regex: regular expressions exceed the configuration's budget of 200 instructions in all: this one (100) brings the total to 300, got "[a-z]{1,49}x"`},
		{"regex unicode class", rule(`"match": {"regex": "[\\pL\\pN]+"}, "reset": {"percent": 1}`),
			`rules[0] (x).match.regex: must be ASCII-only: no \p or \P classes and no escapes above \x7f (paths and header values are ASCII), got "[\\pL\\pN]+"`},
		{"regex source budget", `{"rules": [` + regexSourceRules(5) + `]}`,
			`rules[4] (r4).match.regex: regular expressions exceed the configuration's budget of 2048 bytes of pattern in all: this one (500) brings the total to 2500, got "[` + strings.Repeat("a", 62) + `...`},
		{"secret", `{"header_control": {"secret": "Tr0ub4dor &3"}}`,
			`header_control.secret: must be visible ASCII characters only, byte 9 is not (value not shown)`},
		{"http_status exponent", rule(`"abort": {"percent": 1, "http_status": 5.03e2}`), `rules[0] (x).abort.http_status: ` + integer + `, got 5.03e2`},
		{"grpc_status minus zero", rule(`"abort": {"percent": 1, "grpc_status": -0}`), `rules[0] (x).abort.grpc_status: ` + integer + `, got -0`},
		{"status op fraction", ops("response", `{"op": "status", "value": 502.0}`), `rules[0] (x).corrupt.response[0].value: ` + integer + `, got 502.0`},
		{"percent underflow", rule(`"abort": {"percent": 1e-400}`), `rules[0] (x).abort.percent: must be a multiple of 0.0001 (one in a million), got 1e-400`},
		{"percent just off", rule(`"abort": {"percent": 33.3333000000001}`), `rules[0] (x).abort.percent: must be a multiple of 0.0001 (one in a million), got 33.3333000000001`},
		{"value whitespace", rule(`"abort": {"percent": 1, "headers": {"retry-after": " 1"}}`), `rules[0] (x).abort.headers.retry-after: must not begin or end with a space or tab, got " 1"`},
		{"method", ops("request", `{"op": "set", "name": ":method", "value": "G E T"}`),
			"rules[0] (x).corrupt.request[0].value: must be a method token (letters, digits and !#$%&'*+-.^_`|~), got \"G E T\""},
		{"path", ops("request", `{"op": "set", "name": ":path", "value": "x y"}`), `rules[0] (x).corrupt.request[0].value: must start with "/", got "x y"`},
		{"append pseudo", ops("request", `{"op": "append", "name": ":authority", "value": "a"}`),
			`rules[0] (x).corrupt.request[0].name: pseudo-header only allowed with op set (a request has exactly one of each), got ":authority"`},
		{"abort content-length", rule(`"abort": {"percent": 1, "headers": {"content-length": "0"}}`), `rules[0] (x).abort.headers.content-length: ` + framing + `, got "content-length"`},
		{"op transfer-encoding", ops("response", `{"op": "set", "name": "transfer-encoding", "value": "chunked"}`),
			`rules[0] (x).corrupt.response[0].name: ` + framing + `, got "transfer-encoding"`},
		{"response_header connection", `{"response_header": "connection"}`, `response_header: ` + framing + `, got "connection"`},
		{"set host", ops("request", `{"op": "set", "name": "host", "value": "a"}`),
			`rules[0] (x).corrupt.request[0].name: must not be host, which Envoy treats as :authority (request ops may set :authority), got "host"`},
		{"grpc body", rule(`"abort": {"percent": 1, "grpc_status": 14, "body": "` + strings.Repeat(`\u0000`, 20000) + `"}`),
			`rules[0] (x).abort.body: with grpc_status the body is sent percent-encoded as grpc-message: body and headers must total at most 57344 bytes, got 60000 bytes of grpc-message and 0 bytes of headers`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			have, err := loadErrors(t, tc.cfg)
			if len(have) != 1 || have[0] != pre+tc.want {
				t.Fatalf("error logs:\nhave %q\nwant %q", have, []string{pre + tc.want})
			}
			if tc.name == "secret" && strings.Contains(err.Error(), "Tr0ub4dor") {
				t.Fatalf("the error shows the secret: %v", err)
			}
		})
	}
}

// regexRuleList is n rules r0, r1 ... whose regex has the largest accepted
// program (100 instructions) and never matches a path of letters a.
func regexRuleList(n int) string {
	var rules []string
	for i := 0; i < n; i++ {
		rules = append(rules, fmt.Sprintf(`{"name": "r%d", "match": {"regex": "[a-z]{1,49}x"}, "reset": {"percent": 1}}`, i))
	}
	return strings.Join(rules, ",")
}

// regexSourceRules is n rules r0, r1 ... whose regex is a 500-byte class
// of one instruction.
func regexSourceRules(n int) string {
	var rules []string
	for i := 0; i < n; i++ {
		rules = append(rules, fmt.Sprintf(`{"name": "r%d", "match": {"regex": "[%s]"}, "reset": {"percent": 1}}`, i, strings.Repeat("a", 498)))
	}
	return strings.Join(rules, ",")
}

// A path or header longer than the regex input bound never makes a regex
// rule inject: the regex condition, inverted or not, does not hold.
func TestMatch_regexInputBound(t *testing.T) {
	h := newNedry(t, `{"rules": [
		{"name": "path", "match": {"prefix": "/p/", "regex": "."}, "abort": {"percent": 100, "http_status": 503}},
		{"name": "ua", "match": {"prefix": "/h/", "headers": [{"name": "user-agent", "regex": "^curl/", "invert": true}]}, "abort": {"percent": 100, "http_status": 504}}
	]}`, hosttest.Options{})
	pad := func(prefix string, n int) string { return prefix + strings.Repeat("a", n-len(prefix)) }
	tests := []struct {
		name   string
		req    hosttest.Request
		status int // 0: passed to the upstream
	}{
		{"path at the bound", get("GET", pad("/p/", 1024)), 503},
		{"path over the bound", get("GET", pad("/p/", 1025)), 0},
		{"path at the bound, long query", get("GET", pad("/p/", 1024)+"?"+strings.Repeat("q", 8192)), 503},
		{"inverted header at the bound", get("GET", "/h/", "user-agent", pad("w", 1024)), 504},
		{"inverted header over the bound", get("GET", "/h/", "user-agent", pad("w", 1025)), 0},
		{"inverted header, 60 KiB", get("GET", "/h/", "user-agent", pad("w", 60<<10)), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := run(h, tc.req)
			switch {
			case tc.status == 0 && (r.LocalReply != nil || r.Upstream == nil):
				t.Fatalf("have reply %+v, want the request passed untouched", r.LocalReply)
			case tc.status != 0 && (r.LocalReply == nil || r.LocalReply.Status != tc.status):
				t.Fatalf("have reply %+v, want an abort with %d", r.LocalReply, tc.status)
			}
		})
	}
	wantMetrics(t, h, map[string]int64{"nedry.errors": 0})
}

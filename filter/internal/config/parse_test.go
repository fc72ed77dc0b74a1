package config

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nedry-chaos/nedry/filter/internal/match"
)

// rule wraps the body of one rule named "p" into a config.
func rule(body string) string {
	return `{"rules":[{"name":"p",` + body + `}]}`
}

// problems returns the problems of a rejected config, or fails the test.
func problems(t *testing.T, input string) []string {
	t.Helper()
	c, err := Parse([]byte(input))
	if err == nil {
		t.Fatalf("Parse(%s) accepted the config: %s", input, c.Summary())
	}
	if c != nil {
		t.Fatalf("Parse(%s) returned a config with an error", input)
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("Parse(%s) error is %T, want *config.Error", input, err)
	}
	return ce.Problems
}

func TestParse_errors(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		// Syntax and shape of the document.
		{"syntax missing value", `{"seed":}`, []string{
			`config: invalid JSON at line 1, column 9 (byte offset 8): expected a value, got '}'`}},
		{"syntax unterminated object", `{"seed":1`, []string{
			`config: invalid JSON at line 1, column 10 (byte offset 9): expected ',' or '}', got end of input`}},
		{"syntax trailing comma", `{"rules":[1,]}`, []string{
			`config: invalid JSON at line 1, column 13 (byte offset 12): expected a value, got ']'`}},
		{"syntax trailing data", `{} {}`, []string{
			`config: invalid JSON at line 1, column 4 (byte offset 3): expected end of input, got '{'`}},
		{"syntax single quotes", `{'a':1}`, []string{
			`config: invalid JSON at line 1, column 2 (byte offset 1): expected a string key, got '''`}},
		{"syntax control character", "{\"a\":\"x\x01\"}", []string{
			`config: invalid JSON at line 1, column 8 (byte offset 7): control character in string, got byte 0x01`}},
		{"syntax bad escape", `{"a":"\q"}`, []string{
			`config: invalid JSON at line 1, column 8 (byte offset 7): invalid escape, got 'q'`}},
		{"syntax bad number", `{"a":01}`, []string{
			`config: invalid JSON at line 1, column 7 (byte offset 6): expected ',' or '}', got '1'`}},
		{"syntax invalid utf8", "{\"a\":\"\xff\"}", []string{
			`config: invalid JSON at line 1, column 7 (byte offset 6): invalid UTF-8 in string, got byte 0xff`}},
		{"syntax too deep", strings.Repeat("[", 40) + strings.Repeat("]", 40), []string{
			`config: invalid JSON at line 1, column 33 (byte offset 32): nesting deeper than 32 levels, got '['`}},
		{"root not object", `[1, 2]`, []string{`config: must be an object, got [1,2]`}},
		{"root null", `null`, []string{`config: must be an object, got null`}},
		{"unknown top-level field", `{"enabeld":true}`, []string{`enabeld: unknown field`}},
		{"unknown field quoted", `{"a b":1}`, []string{`["a b"]: unknown field`}},
		{"duplicate field", `{"seed":1,"seed":2}`, []string{`seed: duplicate field`}},

		// Top-level settings.
		{"enabled not bool", `{"enabled":"yes"}`, []string{`enabled: must be true or false, got "yes"`}},
		{"dry_run not bool", `{"dry_run":1}`, []string{`dry_run: must be true or false, got 1`}},
		{"seed negative", `{"seed":-1}`, []string{`seed: must be an integer in [0, 18446744073709551615], got -1`}},
		{"seed fraction", `{"seed":1.5}`, []string{`seed: ` + whyInteger + `, got 1.5`}},
		{"seed string", `{"seed":"42"}`, []string{`seed: must be an integer in [0, 18446744073709551615], got "42"`}},
		{"seed too large", `{"seed":18446744073709551616}`, []string{`seed: must be an integer in [0, 18446744073709551615], got 18446744073709551616`}},
		{"tick number", `{"tick":5}`, []string{`tick: must be a duration string like "250ms", got 5`}},
		{"tick syntax", `{"tick":"5 ms"}`, []string{`tick: must be a duration string like "250ms", got "5 ms"`}},
		{"tick too small", `{"tick":"500us"}`, []string{`tick: must be in [1ms, 1s], got "500us"`}},
		{"tick too large", `{"tick":"2s"}`, []string{`tick: must be in [1ms, 1s], got "2s"`}},
		{"max_active_faults zero", `{"max_active_faults":0}`, []string{`max_active_faults: must be in [1, 1000000], got 0`}},
		{"max_active_faults huge", `{"max_active_faults":1e7}`, []string{`max_active_faults: ` + whyInteger + `, got 1e7`}},
		{"max_active_faults fraction", `{"max_active_faults":1.5}`, []string{`max_active_faults: ` + whyInteger + `, got 1.5`}},
		{"max_active_faults string", `{"max_active_faults":"10"}`, []string{`max_active_faults: must be an integer, got "10"`}},
		{"response_header upper", `{"response_header":"X-Fault"}`, []string{`response_header: must be lowercase (HTTP/2 header names are), got "X-Fault"`}},
		{"response_header pseudo", `{"response_header":":status"}`, []string{`response_header: must not be a pseudo-header, got ":status"`}},
		{"response_header space", `{"response_header":"x fault"}`, []string{"response_header: must be a header name token (letters, digits and !#$%&'*+-.^_`|~), got \"x fault\""}},
		{"response_header type", `{"response_header":false}`, []string{`response_header: must be a string, got false`}},
		{"header_control not object", `{"header_control":true}`, []string{`header_control: must be an object, got true`}},
		{"header_control unknown", `{"header_control":{"enable":true}}`, []string{`header_control.enable: unknown field`}},
		{"header_control enabled type", `{"header_control":{"enabled":"on"}}`, []string{`header_control.enabled: must be true or false, got "on"`}},
		{"header_control secret space", `{"header_control":{"secret":"a b"}}`, []string{`header_control.secret: must be visible ASCII characters only, byte 1 is not (value not shown)`}},
		{"header_control secret long", `{"header_control":{"secret":"` + strings.Repeat("s", 257) + `"}}`, []string{
			`header_control.secret: must be at most 256 bytes, got 257 bytes (value not shown)`}},
		{"header_control max_delay", `{"header_control":{"max_delay":"2h"}}`, []string{`header_control.max_delay: must be in [1ms, 1h], got "2h"`}},
		{"rules not array", `{"rules":{}}`, []string{`rules: must be an array, got {}`}},
		{"rule not object", `{"rules":[5]}`, []string{`rules[0]: must be an object, got 5`}},

		// Rule names and shape.
		{"unknown rule field", rule(`"abort":{"percent":1},"abrot":{}`), []string{`rules[0] (p).abrot: unknown field`}},
		{"name missing", `{"rules":[{"abort":{"percent":1}}]}`, []string{`rules[0].name: required`}},
		{"name type", `{"rules":[{"name":5,"abort":{"percent":1}}]}`, []string{`rules[0].name: must be a string, got 5`}},
		{"name upper", `{"rules":[{"name":"Pay","abort":{"percent":1}}]}`, []string{`rules[0].name: must match [a-z0-9_-]{1,64}, got "Pay"`}},
		{"name empty", `{"rules":[{"name":"","abort":{"percent":1}}]}`, []string{`rules[0].name: must match [a-z0-9_-]{1,64}, got ""`}},
		{"name too long", `{"rules":[{"name":"` + strings.Repeat("a", 65) + `","abort":{"percent":1}}]}`, []string{
			`rules[0].name: must match [a-z0-9_-]{1,64}, got "` + strings.Repeat("a", 63) + `...`}},
		{"name duplicate", `{"rules":[{"name":"a","abort":{"percent":1}},{"name":"b","reset":{"percent":1}},{"name":"a","reset":{"percent":1}}]}`, []string{
			`rules[2] (a).name: duplicate rule name, already used by rules[0], got "a"`}},
		{"name after the faulty field", `{"rules":[{"abort":{"percent":200},"name":"late"}]}`, []string{
			`rules[0] (late).abort.percent: must be in [0, 100], got 200`}},
		{"no fault", rule(`"match":{}`), []string{`rules[0] (p): must configure at least one fault (abort, delay, corrupt, reset or duplicate)`}},
		{"no fault no name", `{"rules":[{}]}`, []string{`rules[0].name: required`, `rules[0]: must configure at least one fault (abort, delay, corrupt, reset or duplicate)`}},

		// Match conditions.
		{"match not object", rule(`"match":[],"reset":{"percent":1}`), []string{`rules[0] (p).match: must be an object, got []`}},
		{"match unknown", rule(`"match":{"paht":"/a"},"reset":{"percent":1}`), []string{`rules[0] (p).match.paht: unknown field`}},
		{"route_name empty", rule(`"match":{"route_name":""},"reset":{"percent":1}`), []string{`rules[0] (p).match.route_name: must not be empty, got ""`}},
		{"virtual_host type", rule(`"match":{"virtual_host":1},"reset":{"percent":1}`), []string{`rules[0] (p).match.virtual_host: must be a string, got 1`}},
		{"cluster control char", rule(`"match":{"cluster":"a\nb"},"reset":{"percent":1}`), []string{`rules[0] (p).match.cluster: must be printable ASCII (no control characters), got "a\nb"`}},
		{"authority too long", rule(`"match":{"authority":"` + strings.Repeat("a", 4097) + `"},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.authority: must be at most 4096 bytes, got "` + strings.Repeat("a", 63) + `...`}},
		{"path relative", rule(`"match":{"path":"api"},"reset":{"percent":1}`), []string{`rules[0] (p).match.path: must start with "/", got "api"`}},
		{"path query", rule(`"match":{"path":"/a?b=1"},"reset":{"percent":1}`), []string{`rules[0] (p).match.path: must not contain a query string or fragment (matching ignores them), got "/a?b=1"`}},
		{"prefix type", rule(`"match":{"prefix":5},"reset":{"percent":1}`), []string{`rules[0] (p).match.prefix: must be a string, got 5`}},
		{"regex invalid", rule(`"match":{"regex":"(a"},"reset":{"percent":1}`), []string{"rules[0] (p).match.regex: invalid regular expression: error parsing regexp: missing closing ): `(a`, got \"(a\""}},
		{"methods lower", rule(`"match":{"methods":["get"]},"reset":{"percent":1}`), []string{`rules[0] (p).match.methods[0]: must be an upper-case method token like "GET", got "get"`}},
		{"methods empty", rule(`"match":{"methods":[]},"reset":{"percent":1}`), []string{`rules[0] (p).match.methods: must have 1 to 16 methods, got []`}},
		{"methods string", rule(`"match":{"methods":"GET"},"reset":{"percent":1}`), []string{`rules[0] (p).match.methods: must be an array of strings, got "GET"`}},
		{"methods element type", rule(`"match":{"methods":["GET",1]},"reset":{"percent":1}`), []string{`rules[0] (p).match.methods[1]: must be a string, got 1`}},
		{"headers not array", rule(`"match":{"headers":{}},"reset":{"percent":1}`), []string{`rules[0] (p).match.headers: must be an array, got {}`}},
		{"header no kind", rule(`"match":{"headers":[{"name":"x-a"}]},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.headers[0]: must have exactly one of exact, prefix, suffix, contains, regex, present, got {"name":"x-a"}`}},
		{"header two kinds", rule(`"match":{"headers":[{"name":"x-a","exact":"1","prefix":"1"}]},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.headers[0]: must have exactly one of exact, prefix, suffix, contains, regex, present, got {"name":"x-a","exact":"1","prefix":"1"}`}},
		{"header name missing", rule(`"match":{"headers":[{"exact":"1"}]},"reset":{"percent":1}`), []string{`rules[0] (p).match.headers[0].name: required`}},
		{"header name upper", rule(`"match":{"headers":[{"name":"X-A","present":true}]},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.headers[0].name: must be lowercase (HTTP/2 header names are), got "X-A"`}},
		{"header unknown key", rule(`"match":{"headers":[{"name":"x-a","exakt":"1","present":true}]},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.headers[0].exakt: unknown field`}},
		{"header present type", rule(`"match":{"headers":[{"name":"x-a","present":"yes"}]},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.headers[0].present: must be true or false, got "yes"`}},
		{"header invert type", rule(`"match":{"headers":[{"name":"x-a","present":true,"invert":1}]},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.headers[0].invert: must be true or false, got 1`}},
		{"header prefix empty", rule(`"match":{"headers":[{"name":"x-a","prefix":""}]},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.headers[0].prefix: must not be empty, got ""`}},
		{"header value control", rule(`"match":{"headers":[{"name":"x-a","exact":"a\u0000"}]},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.headers[0].exact: must be printable ASCII (visible characters, space or tab), got "a\u0000"`}},
		{"header regex invalid", rule(`"match":{"headers":[{"name":"x-a","regex":"[a"}]},"reset":{"percent":1}`), []string{
			"rules[0] (p).match.headers[0].regex: invalid regular expression: error parsing regexp: missing closing ]: `[a`, got \"[a\""}},
		{"too many header matchers", rule(`"match":{"headers":[` + strings.Repeat(`{"name":"a","present":true},`, 32) + `{"name":"a","present":true}]},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.headers: must have at most 32 matchers, got [{"name":"a","present":true},{"name":"a","present":true},{"name"...`}},

		// Percentages, shared by every fault.
		{"percent missing", rule(`"abort":{"http_status":500}`), []string{`rules[0] (p).abort.percent: required`}},
		{"percent too large", rule(`"abort":{"percent":101}`), []string{`rules[0] (p).abort.percent: must be in [0, 100], got 101`}},
		{"percent negative", rule(`"abort":{"percent":-1}`), []string{`rules[0] (p).abort.percent: must be in [0, 100], got -1`}},
		{"percent string", rule(`"abort":{"percent":"10%"}`), []string{`rules[0] (p).abort.percent: must be a number, got "10%"`}},
		{"percent too fine", rule(`"abort":{"percent":12.34567}`), []string{`rules[0] (p).abort.percent: must be a multiple of 0.0001 (one in a million), got 12.34567`}},
		{"percent too fine tiny", rule(`"abort":{"percent":0.00001}`), []string{`rules[0] (p).abort.percent: must be a multiple of 0.0001 (one in a million), got 0.00001`}},

		// Abort.
		{"abort not object", rule(`"abort":true`), []string{`rules[0] (p).abort: must be an object, got true`}},
		{"abort unknown", rule(`"abort":{"percent":1,"status":500}`), []string{`rules[0] (p).abort.status: unknown field`}},
		{"http_status high", rule(`"abort":{"percent":1,"http_status":700}`), []string{`rules[0] (p).abort.http_status: must be in [200, 599], got 700`}},
		{"http_status low", rule(`"abort":{"percent":1,"http_status":199}`), []string{`rules[0] (p).abort.http_status: must be in [200, 599], got 199`}},
		{"http_status fraction", rule(`"abort":{"percent":1,"http_status":503.5}`), []string{`rules[0] (p).abort.http_status: ` + whyInteger + `, got 503.5`}},
		{"http_status string", rule(`"abort":{"percent":1,"http_status":"503"}`), []string{`rules[0] (p).abort.http_status: must be an integer, got "503"`}},
		{"grpc_status high", rule(`"abort":{"percent":1,"grpc_status":17}`), []string{`rules[0] (p).abort.grpc_status: must be in [0, 16], got 17`}},
		{"grpc_status negative", rule(`"abort":{"percent":1,"grpc_status":-1}`), []string{`rules[0] (p).abort.grpc_status: must be in [0, 16], got -1`}},
		{"body type", rule(`"abort":{"percent":1,"body":{}}`), []string{`rules[0] (p).abort.body: must be a string, got {}`}},
		{"body too large", rule(`"abort":{"percent":1,"body":"` + strings.Repeat("b", 65537) + `"}`), []string{`rules[0] (p).abort.body: must be at most 65536 bytes, got 65537 bytes`}},
		{"abort headers type", rule(`"abort":{"percent":1,"headers":[]}`), []string{`rules[0] (p).abort.headers: must be an object of header names to string values, got []`}},
		{"abort header upper", rule(`"abort":{"percent":1,"headers":{"Retry-After":"1"}}`), []string{`rules[0] (p).abort.headers.Retry-After: must be lowercase (HTTP/2 header names are), got "Retry-After"`}},
		{"abort header pseudo", rule(`"abort":{"percent":1,"headers":{":status":"200"}}`), []string{`rules[0] (p).abort.headers[":status"]: must not be a pseudo-header, got ":status"`}},
		{"abort header value type", rule(`"abort":{"percent":1,"headers":{"retry-after":1}}`), []string{`rules[0] (p).abort.headers.retry-after: must be a string, got 1`}},
		{"abort header value CRLF", rule(`"abort":{"percent":1,"headers":{"x-a":"1\r\nx-b: 2"}}`), []string{`rules[0] (p).abort.headers.x-a: must be printable ASCII (visible characters, space or tab), got "1\r\nx-b: 2"`}},
		{"abort header non-ASCII", rule(`"abort":{"percent":1,"headers":{"x-a":"caf\u00e9"}}`), []string{`rules[0] (p).abort.headers.x-a: must be printable ASCII (visible characters, space or tab), got "caf\u00e9"`}},
		{"abort too many headers", rule(`"abort":{"percent":1,"headers":{` + manyHeaders(33) + `}}`), []string{`rules[0] (p).abort.headers: must have at most 32 headers`}},

		// Delay.
		{"delay fixed missing", rule(`"delay":{"percent":1}`), []string{`rules[0] (p).delay.fixed: required`}},
		{"delay fixed number", rule(`"delay":{"percent":1,"fixed":250}`), []string{`rules[0] (p).delay.fixed: must be a duration string like "250ms", got 250`}},
		{"delay fixed zero", rule(`"delay":{"percent":1,"fixed":"0s"}`), []string{`rules[0] (p).delay.fixed: must be in [1ms, 1h], got "0s"`}},
		{"delay fixed too long", rule(`"delay":{"percent":1,"fixed":"61m"}`), []string{`rules[0] (p).delay.fixed: must be in [1ms, 1h], got "61m"`}},
		{"delay jitter negative", rule(`"delay":{"percent":1,"fixed":"1s","jitter":"-1ms"}`), []string{`rules[0] (p).delay.jitter: must be in [0s, 1h], got "-1ms"`}},
		{"delay phase", rule(`"delay":{"percent":1,"fixed":"1s","phase":"both"}`), []string{`rules[0] (p).delay.phase: must be "request" or "response", got "both"`}},
		{"delay unknown", rule(`"delay":{"percent":1,"fixed":"1s","jiter":"1s"}`), []string{`rules[0] (p).delay.jiter: unknown field`}},
		{"delay all missing", rule(`"delay":{}`), []string{`rules[0] (p).delay.percent: required`, `rules[0] (p).delay.fixed: required`}},

		// Corrupt.
		{"corrupt no ops", rule(`"corrupt":{"percent":1}`), []string{`rules[0] (p).corrupt: must have at least one op in request, response, request_body or response_body`}},
		{"corrupt empty ops", rule(`"corrupt":{"percent":1,"request":[]}`), []string{`rules[0] (p).corrupt.request: must have 1 to 32 ops, got []`}},
		{"corrupt ops type", rule(`"corrupt":{"percent":1,"response":{}}`), []string{`rules[0] (p).corrupt.response: must be an array of ops, got {}`}},
		{"corrupt unknown", rule(`"corrupt":{"percent":1,"requests":[]}`), []string{`rules[0] (p).corrupt.requests: unknown field`, `rules[0] (p).corrupt: must have at least one op in request, response, request_body or response_body`}},
		{"op not object", rule(`"corrupt":{"percent":1,"request":["remove"]}`), []string{`rules[0] (p).corrupt.request[0]: must be an object, got "remove"`}},
		{"op missing", rule(`"corrupt":{"percent":1,"request":[{"name":"x-a"}]}`), []string{`rules[0] (p).corrupt.request[0].op: required`}},
		{"op unknown", rule(`"corrupt":{"percent":1,"request":[{"op":"delete","name":"x-a"}]}`), []string{
			`rules[0] (p).corrupt.request[0].op: must be one of remove, set, append, empty, truncate, garble, status, got "delete"`}},
		{"op type", rule(`"corrupt":{"percent":1,"request":[{"op":1,"name":"x-a"}]}`), []string{`rules[0] (p).corrupt.request[0].op: must be a string, got 1`}},
		{"op unknown key", rule(`"corrupt":{"percent":1,"request":[{"op":"remove","name":"x-a","header":"x"}]}`), []string{`rules[0] (p).corrupt.request[0].header: unknown field`}},
		{"op status in request", rule(`"corrupt":{"percent":1,"request":[{"op":"status","value":"502"}]}`), []string{`rules[0] (p).corrupt.request[0].op: status is only allowed in response ops, got "status"`}},
		{"op name missing", rule(`"corrupt":{"percent":1,"request":[{"op":"remove"}]}`), []string{`rules[0] (p).corrupt.request[0].name: required`}},
		{"op name upper", rule(`"corrupt":{"percent":1,"request":[{"op":"remove","name":"Authorization"}]}`), []string{`rules[0] (p).corrupt.request[0].name: must be lowercase (HTTP/2 header names are), got "Authorization"`}},
		{"op name on status", rule(`"corrupt":{"percent":1,"response":[{"op":"status","name":":status","value":"502"}]}`), []string{
			`rules[0] (p).corrupt.response[0].name: not allowed with op status (it always sets :status), got ":status"`}},
		{"op value on remove", rule(`"corrupt":{"percent":1,"request":[{"op":"remove","name":"x-a","value":"1"}]}`), []string{`rules[0] (p).corrupt.request[0].value: not allowed with op remove, got "1"`}},
		{"op value missing", rule(`"corrupt":{"percent":1,"request":[{"op":"set","name":"x-a"}]}`), []string{`rules[0] (p).corrupt.request[0].value: required`}},
		{"op value CR", rule(`"corrupt":{"percent":1,"request":[{"op":"append","name":"x-a","value":"a\rb"}]}`), []string{
			`rules[0] (p).corrupt.request[0].value: must be printable ASCII (visible characters, space or tab), got "a\rb"`}},
		{"op value type", rule(`"corrupt":{"percent":1,"request":[{"op":"set","name":"x-a","value":5}]}`), []string{`rules[0] (p).corrupt.request[0].value: must be a string, got 5`}},
		{"op length missing", rule(`"corrupt":{"percent":1,"request":[{"op":"truncate","name":"x-a"}]}`), []string{`rules[0] (p).corrupt.request[0].length: required`}},
		{"op length on set", rule(`"corrupt":{"percent":1,"request":[{"op":"set","name":"x-a","value":"1","length":2}]}`), []string{`rules[0] (p).corrupt.request[0].length: only allowed with op truncate, got 2`}},
		{"op length negative", rule(`"corrupt":{"percent":1,"request":[{"op":"truncate","name":"x-a","length":-1}]}`), []string{`rules[0] (p).corrupt.request[0].length: must be in [0, 65536], got -1`}},
		{"op remove pseudo", rule(`"corrupt":{"percent":1,"request":[{"op":"remove","name":":path"}]}`), []string{`rules[0] (p).corrupt.request[0].name: pseudo-header only allowed with op set (a request has exactly one of each), got ":path"`}},
		{"op empty pseudo", rule(`"corrupt":{"percent":1,"request":[{"op":"empty","name":":authority"}]}`), []string{`rules[0] (p).corrupt.request[0].name: pseudo-header only allowed with op set (a request has exactly one of each), got ":authority"`}},
		{"op set pseudo empty value", rule(`"corrupt":{"percent":1,"request":[{"op":"set","name":":path","value":""}]}`), []string{`rules[0] (p).corrupt.request[0].value: must not be empty for a pseudo-header`}},
		{"op set :status in request", rule(`"corrupt":{"percent":1,"request":[{"op":"set","name":":status","value":"200"}]}`), []string{
			`rules[0] (p).corrupt.request[0].name: pseudo-header not allowed here (request ops may set :path, :method, :authority, :scheme; use op status for :status), got ":status"`}},
		{"op pseudo in response", rule(`"corrupt":{"percent":1,"response":[{"op":"set","name":":path","value":"/"}]}`), []string{
			`rules[0] (p).corrupt.response[0].name: pseudo-header not allowed here (request ops may set :path, :method, :authority, :scheme; use op status for :status), got ":path"`}},
		{"op status value word", rule(`"corrupt":{"percent":1,"response":[{"op":"status","value":"bad"}]}`), []string{
			`rules[0] (p).corrupt.response[0].value: must be an HTTP status in [200, 599], as a number or a string, got "bad"`}},
		{"op status value range", rule(`"corrupt":{"percent":1,"response":[{"op":"status","value":700}]}`), []string{
			`rules[0] (p).corrupt.response[0].value: must be an HTTP status in [200, 599], as a number or a string, got 700`}},
		{"op status value padded", rule(`"corrupt":{"percent":1,"response":[{"op":"status","value":"0502"}]}`), []string{
			`rules[0] (p).corrupt.response[0].value: must be an HTTP status in [200, 599], as a number or a string, got "0502"`}},
		{"op status value missing", rule(`"corrupt":{"percent":1,"response":[{"op":"status"}]}`), []string{`rules[0] (p).corrupt.response[0].value: required`}},
		{"too many ops", rule(`"corrupt":{"percent":1,"request":[` + strings.Repeat(`{"op":"remove","name":"a"},`, 32) + `{"op":"remove","name":"a"}]}`), []string{
			`rules[0] (p).corrupt.request: must have 1 to 32 ops, got [{"op":"remove","name":"a"},{"op":"remove","name":"a"},{"op":"re...`}},

		// Reset.
		{"reset percent missing", rule(`"reset":{}`), []string{`rules[0] (p).reset.percent: required`}},
		{"reset unknown", rule(`"reset":{"percent":1,"code":2}`), []string{`rules[0] (p).reset.code: unknown field`}},

		// Long values are truncated in the message.
		{"long value truncated", `{"tick":"` + long + `"}`, []string{`tick: must be a duration string like "250ms", got "` + strings.Repeat("x", 63) + `...`}},

		// Every problem, in document order.
		{"several problems in order", `{"seed":-1,"rules":[{"name":"a","abort":{"percent":200,"http_status":1}},{"name":"B","delay":{"percent":1,"fixed":"1x"}}],"tick":"0s"}`, []string{
			`seed: must be an integer in [0, 18446744073709551615], got -1`,
			`rules[0] (a).abort.percent: must be in [0, 100], got 200`,
			`rules[0] (a).abort.http_status: must be in [200, 599], got 1`,
			`rules[1].name: must match [a-z0-9_-]{1,64}, got "B"`,
			`rules[1].delay.fixed: must be a duration string like "250ms", got "1x"`,
			`tick: must be in [1ms, 1s], got "0s"`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			have := problems(t, tc.input)
			if strings.Join(have, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("problems\nhave:\n%s\nwant:\n%s", strings.Join(have, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func manyHeaders(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `"x-h` + strconv.Itoa(i) + `":"1"`
	}
	return strings.Join(parts, ",")
}

func TestParse_empty(t *testing.T) {
	for _, input := range []string{"", " \n\t "} {
		c, err := Parse([]byte(input))
		if err != nil {
			t.Fatalf("Parse(%q): %v", input, err)
		}
		if !c.Empty() {
			t.Fatalf("Parse(%q).Empty() = false", input)
		}
		if have, want := c.Summary(), "0 rules, enabled, random seed, tick 5ms"; have != want {
			t.Fatalf("Summary() = %q, want %q", have, want)
		}
		if r := c.Match(&fakeRequest{path: "/"}); r != nil {
			t.Fatalf("Match on an empty config = %q, want nil", r.Name)
		}
	}
}

func TestParse_defaults(t *testing.T) {
	c, err := Parse([]byte(`{"rules":[{"name":"a","abort":{"percent":1}},{"name":"b","delay":{"percent":2,"fixed":"1s"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Enabled || c.DryRun || c.Seed != 0 || c.Tick != 5*time.Millisecond || c.MaxActiveFaults != 1000 ||
		c.ResponseHeader != "x-nedry-fault" || c.HeaderControl != (HeaderControl{MaxDelay: 10 * time.Second}) {
		t.Fatalf("defaults: %+v", c)
	}
	a := c.Rules[0].Abort
	if a.PPM != 10000 || a.HTTPStatus != 503 || a.GRPCStatus != -1 || string(a.Body) != "nedry fault: abort" || a.Headers != nil {
		t.Fatalf("abort defaults: %+v", a)
	}
	d := c.Rules[1].Delay
	if *d != (Delay{PPM: 20000, Fixed: time.Second, Phase: PhaseRequest}) {
		t.Fatalf("delay defaults: %+v", d)
	}
	if c.Rules[0].Delay != nil || c.Rules[0].Corrupt != nil || c.Rules[0].Reset != nil {
		t.Fatalf("unconfigured faults must be nil: %+v", c.Rules[0])
	}
	if c.Rules[1].Index != 1 {
		t.Fatalf("Index = %d, want 1", c.Rules[1].Index)
	}
}

const fullConfig = `{
  "enabled": false,
  "dry_run": true,
  "seed": 18446744073709551615,
  "tick": "10ms",
  "max_active_faults": 50,
  "response_header": "",
  "header_control": {"enabled": true, "secret": "s3cret", "max_delay": "2s"},
  "rules": [{
    "name": "payments",
    "match": {
      "route_name": "r", "virtual_host": "vh", "cluster": "c",
      "path": "/pay", "prefix": "/p", "regex": "^/pa",
      "methods": ["POST", "PUT"], "authority": "api.example.com",
      "headers": [{"name": "x-group", "exact": "beta"}, {"name": "x-canary", "present": true},
                  {"name": "user-agent", "regex": "curl/.*", "invert": true}]
    },
    "abort": {"percent": 12.5, "http_status": 429, "grpc_status": 14, "body": "", "headers": {"retry-after": "1", "x-b": "two words"}},
    "delay": {"percent": 0.0001, "fixed": "250ms", "jitter": "50ms", "phase": "response"},
    "corrupt": {"percent": 100,
      "request": [{"op": "remove", "name": "authorization"}, {"op": "garble", "name": "x-request-id"},
                  {"op": "set", "name": ":path", "value": "/other"}, {"op": "truncate", "name": "cookie", "length": 3}],
      "response": [{"op": "set", "name": "content-type", "value": "text/html"}, {"op": "append", "name": "via", "value": "x"},
                   {"op": "empty", "name": "etag"}, {"op": "status", "value": "502"}, {"op": "status", "value": 504}]},
    "reset": {"percent": 0}
  }]
}`

func TestParse_full(t *testing.T) {
	c, err := Parse([]byte(fullConfig))
	if err != nil {
		t.Fatal(err)
	}
	if c.Enabled || !c.DryRun || c.Seed != 18446744073709551615 || c.Tick != 10*time.Millisecond ||
		c.MaxActiveFaults != 50 || c.ResponseHeader != "" ||
		c.HeaderControl != (HeaderControl{Enabled: true, Secret: "s3cret", MaxDelay: 2 * time.Second}) {
		t.Fatalf("settings: %+v", c)
	}
	r := c.Rules[0]
	m := r.Match
	if m.RouteName != "r" || m.VirtualHost != "vh" || m.Cluster != "c" || m.Path != "/pay" || m.Prefix != "/p" ||
		m.Regex.String() != "^/pa" || strings.Join(m.Methods, ",") != "POST,PUT" || m.Authority != "api.example.com" {
		t.Fatalf("match: %+v", m)
	}
	wantHeaders := []match.HeaderMatcher{
		{Name: "x-group", Kind: match.HeaderExact, Value: "beta"},
		{Name: "x-canary", Kind: match.HeaderPresent, Present: true},
		{Name: "user-agent", Kind: match.HeaderRegex, Invert: true},
	}
	for i, w := range wantHeaders {
		h := m.Headers[i]
		h.Regex = nil
		if h != w {
			t.Fatalf("headers[%d] = %+v, want %+v", i, h, w)
		}
	}
	a := r.Abort
	if a.PPM != 125000 || a.HTTPStatus != 429 || a.GRPCStatus != 14 || len(a.Body) != 0 ||
		len(a.Headers) != 2 || a.Headers[0] != [2]string{"retry-after", "1"} || a.Headers[1] != [2]string{"x-b", "two words"} {
		t.Fatalf("abort: %+v", a)
	}
	if *r.Delay != (Delay{PPM: 1, Fixed: 250 * time.Millisecond, Jitter: 50 * time.Millisecond, Phase: PhaseResponse}) {
		t.Fatalf("delay: %+v", r.Delay)
	}
	wantReq := []HeaderOp{
		{Kind: OpRemove, Name: "authorization"},
		{Kind: OpGarble, Name: "x-request-id"},
		{Kind: OpSet, Name: ":path", Value: "/other"},
		{Kind: OpTruncate, Name: "cookie", Length: 3},
	}
	wantResp := []HeaderOp{
		{Kind: OpSet, Name: "content-type", Value: "text/html"},
		{Kind: OpAppend, Name: "via", Value: "x"},
		{Kind: OpEmpty, Name: "etag"},
		{Kind: OpStatus, Name: ":status", Value: "502"},
		{Kind: OpStatus, Name: ":status", Value: "504"},
	}
	if r.Corrupt.PPM != 1000000 || !equalOps(r.Corrupt.Request, wantReq) || !equalOps(r.Corrupt.Response, wantResp) {
		t.Fatalf("corrupt: %+v", r.Corrupt)
	}
	if r.Reset.PPM != 0 {
		t.Fatalf("reset: %+v", r.Reset)
	}
	if have, want := c.Summary(), "1 rule (payments), disabled, dry run, seed 18446744073709551615, tick 10ms, header control on"; have != want {
		t.Fatalf("Summary() = %q, want %q", have, want)
	}
}

func equalOps(a, b []HeaderOp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParse_percent(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
	}{
		{"0", 0}, {"100", 1000000}, {"12.5", 125000}, {"0.0001", 1}, {"33.3333", 333333},
		{"99.9999", 999999}, {"1e1", 100000}, {"0.1", 1000}, {"57.0001", 570001},
	}
	for _, tc := range tests {
		c, err := Parse([]byte(rule(`"reset":{"percent":` + tc.in + `}`)))
		if err != nil {
			t.Fatalf("percent %s: %v", tc.in, err)
		}
		if have := c.Rules[0].Reset.PPM; have != tc.want {
			t.Fatalf("percent %s: PPM = %d, want %d", tc.in, have, tc.want)
		}
	}
}

package config

import (
	"strconv"
	"strings"
	"testing"
)

// Refusals added when the filter was hardened: loose numbers, values that
// would form invalid or ambiguous HTTP, secrets in logs, and local replies
// too large for Envoy's header limits.
func TestParse_hardeningErrors(t *testing.T) {
	op := func(dir, body string) string { return rule(`"corrupt":{"percent":1,"` + dir + `":[` + body + `]}`) }
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		// One integer rule, on the literal text, everywhere.
		{"http_status trailing fraction", rule(`"abort":{"percent":1,"http_status":503.00000000000001}`), []string{
			`rules[0] (p).abort.http_status: ` + whyInteger + `, got 503.00000000000001`}},
		{"http_status zero fraction", rule(`"abort":{"percent":1,"http_status":503.0}`), []string{
			`rules[0] (p).abort.http_status: ` + whyInteger + `, got 503.0`}},
		{"http_status exponent", rule(`"abort":{"percent":1,"http_status":5.03e2}`), []string{
			`rules[0] (p).abort.http_status: ` + whyInteger + `, got 5.03e2`}},
		{"max_active_faults long fraction", `{"max_active_faults":999999.99999999999999}`, []string{
			`max_active_faults: ` + whyInteger + `, got 999999.99999999999999`}},
		{"truncate length one point zero", op("request", `{"op":"truncate","name":"x-a","length":1.0}`), []string{
			`rules[0] (p).corrupt.request[0].length: ` + whyInteger + `, got 1.0`}},
		{"grpc_status minus zero", rule(`"abort":{"percent":1,"grpc_status":-0}`), []string{
			`rules[0] (p).abort.grpc_status: ` + whyInteger + `, got -0`}},
		{"seed minus zero", `{"seed":-0}`, []string{`seed: ` + whyInteger + `, got -0`}},
		{"seed exponent", `{"seed":1e3}`, []string{`seed: ` + whyInteger + `, got 1e3`}},
		{"truncate length minus zero", op("request", `{"op":"truncate","name":"x-a","length":-0}`), []string{
			`rules[0] (p).corrupt.request[0].length: ` + whyInteger + `, got -0`}},
		{"status op fraction", op("response", `{"op":"status","value":502.0}`), []string{
			`rules[0] (p).corrupt.response[0].value: ` + whyInteger + `, got 502.0`}},
		{"status op exponent", op("response", `{"op":"status","value":5.02e2}`), []string{
			`rules[0] (p).corrupt.response[0].value: ` + whyInteger + `, got 5.02e2`}},
		{"integer beyond int64", rule(`"abort":{"percent":1,"http_status":99999999999999999999}`), []string{
			`rules[0] (p).abort.http_status: must be in [200, 599], got 99999999999999999999`}},

		// Percent: exact on the literal text, never rounded.
		{"percent just above a step", rule(`"abort":{"percent":33.3333000000001}`), []string{
			`rules[0] (p).abort.percent: must be a multiple of 0.0001 (one in a million), got 33.3333000000001`}},
		{"percent underflow", rule(`"abort":{"percent":1e-400}`), []string{
			`rules[0] (p).abort.percent: must be a multiple of 0.0001 (one in a million), got 1e-400`}},
		{"percent just above 100", rule(`"abort":{"percent":100.00000000000001}`), []string{
			`rules[0] (p).abort.percent: must be in [0, 100], got 100.00000000000001`}},
		{"percent huge exponent", rule(`"abort":{"percent":1e999999999999}`), []string{
			`rules[0] (p).abort.percent: must be in [0, 100], got 1e999999999999`}},
		{"percent minus zero", rule(`"abort":{"percent":-0}`), []string{`rules[0] (p).abort.percent: must be in [0, 100], got -0`}},
		{"percent minus zero fraction", rule(`"abort":{"percent":-0.0}`), []string{`rules[0] (p).abort.percent: must be in [0, 100], got -0.0`}},

		// Secrets are never shown.
		{"secret not a string", `{"header_control":{"secret":12345}}`, []string{`header_control.secret: must be a string (value not shown)`}},
		{"secret with space", `{"header_control":{"secret":"Tr0ub4dor &3"}}`, []string{
			`header_control.secret: must be visible ASCII characters only, byte 9 is not (value not shown)`}},

		// Header values Nedry writes.
		{"abort header leading space", rule(`"abort":{"percent":1,"headers":{"retry-after":" 1"}}`), []string{
			`rules[0] (p).abort.headers.retry-after: must not begin or end with a space or tab, got " 1"`}},
		{"abort header trailing tab", rule(`"abort":{"percent":1,"headers":{"retry-after":"1\t"}}`), []string{
			`rules[0] (p).abort.headers.retry-after: must not begin or end with a space or tab, got "1\t"`}},
		{"op value trailing space", op("response", `{"op":"set","name":"x-a","value":"v "}`), []string{
			`rules[0] (p).corrupt.response[0].value: must not begin or end with a space or tab, got "v "`}},
		{"op value only space", op("request", `{"op":"append","name":"x-a","value":" "}`), []string{
			`rules[0] (p).corrupt.request[0].value: must not begin or end with a space or tab, got " "`}},

		// Pseudo-headers: set only, with a valid value.
		{"append authority", op("request", `{"op":"append","name":":authority","value":"a.example"}`), []string{
			`rules[0] (p).corrupt.request[0].name: pseudo-header only allowed with op set (a request has exactly one of each), got ":authority"`}},
		{"append path", op("request", `{"op":"append","name":":path","value":"/x"}`), []string{
			`rules[0] (p).corrupt.request[0].name: pseudo-header only allowed with op set (a request has exactly one of each), got ":path"`}},
		{"method with spaces", op("request", `{"op":"set","name":":method","value":"G E T"}`), []string{
			"rules[0] (p).corrupt.request[0].value: must be a method token (letters, digits and !#$%&'*+-.^_`|~), got \"G E T\""}},
		{"path relative with space", op("request", `{"op":"set","name":":path","value":"x y"}`), []string{
			`rules[0] (p).corrupt.request[0].value: must start with "/", got "x y"`}},
		{"path with space", op("request", `{"op":"set","name":":path","value":"/x y"}`), []string{
			`rules[0] (p).corrupt.request[0].value: must be a path and query of URI characters (RFC 3986: no space, '#', quote, '<', '>', '\', '^', '` + "`" + `', '{', '|', '}'), got "/x y"`}},
		{"path with fragment", op("request", `{"op":"set","name":":path","value":"/x#y"}`), []string{
			`rules[0] (p).corrupt.request[0].value: must be a path and query of URI characters (RFC 3986: no space, '#', quote, '<', '>', '\', '^', '` + "`" + `', '{', '|', '}'), got "/x#y"`}},
		{"value before name", op("request", `{"op":"set","value":"G E T","name":":method"}`), []string{
			"rules[0] (p).corrupt.request[0].value: must be a method token (letters, digits and !#$%&'*+-.^_`|~), got \"G E T\""}},
		{"scheme with colon", op("request", `{"op":"set","name":":scheme","value":"https:"}`), []string{
			`rules[0] (p).corrupt.request[0].value: must be a URI scheme (a letter, then letters, digits, '+', '-', '.'), got "https:"`}},
		{"authority with userinfo", op("request", `{"op":"set","name":":authority","value":"u@a.example"}`), []string{
			`rules[0] (p).corrupt.request[0].value: must be a host and optional port (RFC 3986 authority without userinfo), got "u@a.example"`}},

		// Framing, hop-by-hop and host.
		{"op set content-length", op("request", `{"op":"set","name":"content-length","value":"0"}`), []string{
			`rules[0] (p).corrupt.request[0].name: ` + whyConnectionHeader + `, got "content-length"`}},
		{"op remove transfer-encoding", op("response", `{"op":"remove","name":"transfer-encoding"}`), []string{
			`rules[0] (p).corrupt.response[0].name: ` + whyConnectionHeader + `, got "transfer-encoding"`}},
		{"op garble connection", op("request", `{"op":"garble","name":"connection"}`), []string{
			`rules[0] (p).corrupt.request[0].name: ` + whyConnectionHeader + `, got "connection"`}},
		{"op set te", op("request", `{"op":"set","name":"te","value":"trailers"}`), []string{
			`rules[0] (p).corrupt.request[0].name: ` + whyConnectionHeader + `, got "te"`}},
		{"op set host", op("request", `{"op":"set","name":"host","value":"a.example"}`), []string{
			`rules[0] (p).corrupt.request[0].name: must not be host, which Envoy treats as :authority (request ops may set :authority), got "host"`}},
		{"abort header content-length", rule(`"abort":{"percent":1,"headers":{"content-length":"5"}}`), []string{
			`rules[0] (p).abort.headers.content-length: ` + whyConnectionHeader + `, got "content-length"`}},
		{"abort header upgrade", rule(`"abort":{"percent":1,"headers":{"upgrade":"h2c"}}`), []string{
			`rules[0] (p).abort.headers.upgrade: ` + whyConnectionHeader + `, got "upgrade"`}},
		{"abort header keep-alive", rule(`"abort":{"percent":1,"headers":{"keep-alive":"timeout=5"}}`), []string{
			`rules[0] (p).abort.headers.keep-alive: ` + whyConnectionHeader + `, got "keep-alive"`}},
		{"response_header trailer", `{"response_header":"trailer"}`, []string{`response_header: ` + whyConnectionHeader + `, got "trailer"`}},
		{"response_header proxy-connection", `{"response_header":"proxy-connection"}`, []string{`response_header: ` + whyConnectionHeader + `, got "proxy-connection"`}},

		// Regular expressions: bounded program, bounded budget.
		{"regex program too large", rule(`"match":{"regex":"[a-z0-9]{1,256}\\.json$"},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.regex: regular expression too large: its program has 519 instructions, at most 100, got "[a-z0-9]{1,256}\\.json$"`}},
		{"regex program just too large", rule(`"match":{"regex":"[a-z]{1,50}x"},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.regex: regular expression too large: its program has 102 instructions, at most 100, got "[a-z]{1,50}x"`}},
		{"regex refused before expansion", rule(`"match":{"regex":"` + strings.Repeat(`a{1000}`, 40) + `"},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.regex: regular expression too large: its program has more than 1000 instructions, at most 100, got "` + strings.Repeat(`a{1000}`, 9) + `...`}},
		{"regex unicode class", rule(`"match":{"regex":"^/\\pL+$"},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.regex: ` + whyASCII + `, got "^/\\pL+$"`}},
		{"regex negated unicode class", rule(`"match":{"regex":"[\\P{Greek}]"},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.regex: ` + whyASCII + `, got "[\\P{Greek}]"`}},
		{"regex wide hex escape", rule(`"match":{"regex":"(?i)[\\x{80}-\\x{10FFFF}]"},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.regex: ` + whyASCII + `, got "(?i)[\\x{80}-\\x{10FFFF}]"`}},
		{"regex hex escape", rule(`"match":{"regex":"\\xff"},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.regex: ` + whyASCII + `, got "\\xff"`}},
		{"regex octal escape", rule(`"match":{"regex":"\\377"},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.regex: ` + whyASCII + `, got "\\377"`}},
		{"header regex too large", rule(`"match":{"headers":[{"name":"user-agent","regex":"\\w{1,1000}x"}]},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.headers[0].regex: regular expression too large: its program has more than 1000 instructions, at most 100, got "\\w{1,1000}x"`}},
		{"regex too long", rule(`"match":{"regex":"` + strings.Repeat("a", 513) + `"},"reset":{"percent":1}`), []string{
			`rules[0] (p).match.regex: must be at most 512 bytes, got "` + strings.Repeat("a", 63) + `...`}},
		{"regex source budget", regexRules(5, "["+strings.Repeat("a", 498)+"]"), []string{
			`rules[4] (r4).match.regex: regular expressions exceed the configuration's budget of 2048 bytes of pattern in all: this one (500) brings the total to 2500, got "` +
				"[" + strings.Repeat("a", 62) + `...`}},
		{"regex budget", regexRules(3, `[a-z]{1,49}x`), []string{
			`rules[2] (r2).match.regex: regular expressions exceed the configuration's budget of 200 instructions in all: this one (100) brings the total to 300, got "[a-z]{1,49}x"`}},

		// gRPC local replies fit Envoy's default header limit.
		{"grpc body too large encoded", rule(`"abort":{"percent":1,"grpc_status":14,"body":"` + strings.Repeat(`\n`, 20000) + `"}`), []string{
			`rules[0] (p).abort.body: with grpc_status the body is sent percent-encoded as grpc-message: body and headers must total at most 57344 bytes, got 60000 bytes of grpc-message and 0 bytes of headers`}},
		{"grpc body of tildes", rule(`"abort":{"percent":1,"grpc_status":14,"body":"` + strings.Repeat(`~`, 20000) + `"}`), []string{
			`rules[0] (p).abort.body: with grpc_status the body is sent percent-encoded as grpc-message: body and headers must total at most 57344 bytes, got 60000 bytes of grpc-message and 0 bytes of headers`}},
		{"grpc body and headers too large", rule(`"abort":{"percent":1,"headers":{"x-a":"` + strings.Repeat("a", 4000) + `"},"body":"` + strings.Repeat("%", 18000) + `","grpc_status":14}`), []string{
			`rules[0] (p).abort.body: with grpc_status the body is sent percent-encoded as grpc-message: body and headers must total at most 57344 bytes, got 54000 bytes of grpc-message and 4003 bytes of headers`}},
		{"abort headers too large", rule(`"abort":{"percent":1,"headers":{` + bigHeaders(15, 4000) + `}}`), []string{
			`rules[0] (p).abort.headers: must total at most 57344 bytes of names and values, got 60030 bytes`}},
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

// regexRules is a config of n rules r0, r1 ... matching on regex re.
func regexRules(n int, re string) string {
	var rules []string
	for i := 0; i < n; i++ {
		rules = append(rules, `{"name":"r`+strconv.Itoa(i)+`","match":{"regex":"`+re+`"},"reset":{"percent":1}}`)
	}
	return `{"rules":[` + strings.Join(rules, ",") + `]}`
}

// bigHeaders writes n abort headers x0, x1 ... with values of size bytes.
func bigHeaders(n, size int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"x` + string(rune('a'+i)) + `":"` + strings.Repeat("v", size) + `"`)
	}
	return b.String()
}

// A refused secret never appears in the problems, whatever is wrong with it.
func TestParse_secretNeverShown(t *testing.T) {
	for _, secret := range []string{"Tr0ub4dor &3-horse", "Tr0ub4dor\\u00e9horse", strings.Repeat("Tr0ub4dor", 40)} {
		input := `{"header_control":{"secret":"` + secret + `","enabled":"x"}}`
		for _, p := range problems(t, input) {
			if strings.Contains(p, "Tr0ub4dor") {
				t.Fatalf("problem %q shows the secret", p)
			}
		}
	}
}

// Values on the accepted side of the same rules.
func TestParse_hardeningAccepted(t *testing.T) {
	tests := []struct {
		name, input string
		ppm         uint32
	}{
		{"percent exponent", rule(`"abort":{"percent":1e2}`), 1000000},
		{"percent fraction exponent", rule(`"abort":{"percent":0.5e1}`), 50000},
		{"percent trailing zeros", rule(`"abort":{"percent":12.500000000000000000}`), 125000},
		{"percent finest", rule(`"abort":{"percent":0.0001}`), 1},
		{"percent zero exponent", rule(`"abort":{"percent":0e-400}`), 0},
		{"percent small exponent", rule(`"abort":{"percent":1E-4}`), 1},
		{"percent hundred", rule(`"abort":{"percent":100.0000}`), 1000000},
		{"percent four decimals", rule(`"abort":{"percent":33.3333}`), 333333},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.input))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if have := c.Rules[0].Abort.PPM; have != tc.ppm {
				t.Fatalf("ppm: have %d, want %d", have, tc.ppm)
			}
		})
	}
	ok := []string{
		rule(`"abort":{"percent":1,"grpc_status":0,"http_status":599,"headers":{"retry-after":"1 2"}}`),
		rule(`"corrupt":{"percent":1,"request":[{"op":"set","name":":path","value":"/a/b%20c?q=1&r=a:b@c"},{"op":"set","name":":method","value":"PURGE"},` +
			`{"op":"set","name":":scheme","value":"https"},{"op":"set","name":":authority","value":"[::1]:8080"},{"op":"set","name":"x-a","value":""}]}`),
		rule(`"abort":{"percent":1,"grpc_status":14,"body":"` + strings.Repeat("a", 57344) + `"}`),
		`{"seed":0,"max_active_faults":1}`,
		regexRules(2, `[a-z]{1,49}x`),
		regexRules(1, `^/\\x41\\x{7f}\\101\\\\p[\\w\\W]\\d(?i)k$`),
	}
	for _, input := range ok {
		if _, err := Parse([]byte(input)); err != nil {
			t.Fatalf("Parse(%.80s...): %v", input, err)
		}
	}
}

package config

import "testing"

// An invalid document is located by line and column, both from 1, the
// column in characters, and by byte offset from 0.
func TestParse_invalidJSONPosition(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"first byte", `x`,
			`config: invalid JSON at line 1, column 1 (byte offset 0): expected a value, got 'x'`},
		{"third line", "{\n  \"seed\": 1,\n  \"rules\": [x]\n}",
			`config: invalid JSON at line 3, column 13 (byte offset 27): expected a value, got 'x'`},
		{"crlf line endings", "{\r\n  \"seed\": }\r\n",
			`config: invalid JSON at line 2, column 11 (byte offset 13): expected a value, got '}'`},
		{"tab is one column", "{\n\t\"seed\":}",
			`config: invalid JSON at line 2, column 9 (byte offset 10): expected a value, got '}'`},
		{"multibyte characters are one column each", `{"éé":1,"b":}`,
			`config: invalid JSON at line 1, column 13 (byte offset 14): expected a value, got '}'`},
		{"invalid utf-8 on the second line", "{\n\"a\":\"\xff\"}",
			`config: invalid JSON at line 2, column 6 (byte offset 7): invalid UTF-8 in string, got byte 0xff`},
		{"end of input after a newline", "{\"seed\":1\n",
			`config: invalid JSON at line 2, column 1 (byte offset 10): expected ',' or '}', got end of input`},
		{"blank lines before", "\n\n[1,]",
			`config: invalid JSON at line 3, column 4 (byte offset 5): expected a value, got ']'`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			have := problems(t, tc.input)
			if len(have) != 1 || have[0] != tc.want {
				t.Fatalf("Parse(%q):\nhave %q\nwant %q", tc.input, have, tc.want)
			}
		})
	}
}

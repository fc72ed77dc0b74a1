package config

import (
	"strings"
	"testing"
)

func TestParse_body(t *testing.T) {
	c, err := Parse([]byte(rule(`"corrupt": {"percent": 5,
		"request_body": {"ops": [{"op": "set", "path": "order.items.0.price", "value": {"a": [1, 2]}},
			{"op": "remove", "path": "a\\.b"}, {"op": "retype", "path": "n"}]},
		"response_body": {"ops": [{"op": "truncate", "length": 0}, {"op": "garble", "count": 3},
			{"op": "replace", "value": "oops"}], "content_type": "Text/", "max_bytes": 16777216}}`)))
	if err != nil {
		t.Fatal(err)
	}
	req, resp := c.Rules[0].Corrupt.RequestBody, c.Rules[0].Corrupt.ResponseBody
	if !req.JSON || req.ContentType != "json" || req.MaxBytes != DefaultMaxBodyBytes || len(req.Ops) != 3 {
		t.Fatalf("request body: %+v", req)
	}
	if have := req.Ops[0]; have != (BodyOp{Kind: BodySet, Path: "order.items.0.price", Value: `{"a":[1,2]}`}) {
		t.Fatalf("set op: %+v", have)
	}
	if resp.JSON || resp.ContentType != "text/" || resp.MaxBytes != MaxMaxBodyBytes {
		t.Fatalf("response body: %+v", resp)
	}
	want := []BodyOp{{Kind: BodyTruncate}, {Kind: BodyGarble, N: 3}, {Kind: BodyReplace, Value: "oops"}}
	for i, w := range want {
		if resp.Ops[i] != w {
			t.Fatalf("op %d: have %+v, want %+v", i, resp.Ops[i], w)
		}
	}
	// Raw ops alone match any content type by default.
	c, err = Parse([]byte(rule(`"corrupt": {"percent": 5, "request_body": {"ops": [{"op": "garble", "count": 1}]}}`)))
	if err != nil || c.Rules[0].Corrupt.RequestBody.ContentType != "" {
		t.Fatalf("raw ops: %v %+v", err, c)
	}
}

func TestParse_bodyErrors(t *testing.T) {
	const at = "rules[0] (p).corrupt.request_body"
	tests := []struct {
		name, body string
		want       []string
	}{
		{"not an object", `[]`, []string{at + `: must be an object, got []`}},
		{"no ops", `{}`, []string{at + `.ops: required`}},
		{"empty ops", `{"ops": []}`, []string{at + `.ops: must have 1 to 32 ops, got []`}},
		{"unknown key", `{"ops": [{"op": "replace", "value": ""}], "max_byte": 1}`, []string{at + `.max_byte: unknown field`}},
		{"max_bytes too big", `{"ops": [{"op": "replace", "value": ""}], "max_bytes": 16777217}`,
			[]string{at + `.max_bytes: must be in [1, 16777216], got 16777217`}},
		{"content_type not printable", `{"ops": [{"op": "replace", "value": ""}], "content_type": "a\tb\u0001"}`,
			[]string{at + `.content_type: must be printable ASCII, at most 256 bytes, got "a\tb\u0001"`}},
		{"unknown op", `{"ops": [{"op": "delete", "path": "a"}]}`,
			[]string{at + `.ops[0].op: must be one of "set", "remove", "retype", "truncate", "garble", "replace", got "delete"`}},
		{"op missing", `{"ops": [{"path": "a"}]}`, []string{at + `.ops[0].op: required`}},
		{"set without value", `{"ops": [{"op": "set", "path": "a"}]}`, []string{at + `.ops[0].value: required with op set`}},
		{"remove without path", `{"ops": [{"op": "remove"}]}`, []string{at + `.ops[0].path: required with op remove`}},
		{"truncate with path", `{"ops": [{"op": "truncate", "length": 1, "path": "a"}]}`,
			[]string{at + `.ops[0].path: not allowed with op truncate`}},
		{"garble count zero", `{"ops": [{"op": "garble", "count": 0}]}`, []string{at + `.ops[0].count: must be in [1, 65536], got 0`}},
		{"truncate negative", `{"ops": [{"op": "truncate", "length": -1}]}`,
			[]string{at + `.ops[0].length: must be in [0, 16777216], got -1`}},
		{"replace not a string", `{"ops": [{"op": "replace", "value": 1}]}`, []string{at + `.ops[0].value: must be a string, got 1`}},
		{"wildcard path", `{"ops": [{"op": "remove", "path": "items.#.sku"}]}`, []string{at +
			`.ops[0].path: must be keys and array indexes separated by dots (escape # with \), no wildcards, queries, modifiers or multipaths, got "items.#.sku"`}},
		{"multipath", `{"ops": [{"op": "remove", "path": "{a,b}"}]}`, []string{at + `.ops[0].path: must be keys and array indexes separated by dots, not a multipath, got "{a,b}"`}},
		{"empty segment", `{"ops": [{"op": "remove", "path": "a..b"}]}`, []string{at + `.ops[0].path: must not have empty path segments, got "a..b"`}},
		{"empty path", `{"ops": [{"op": "remove", "path": ""}]}`,
			[]string{at + `.ops[0].path: must be a JSON path like "order.items.0.price", not empty, got ""`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			have := problems(t, rule(`"corrupt": {"percent": 5, "request_body": `+tc.body+`}`))
			if strings.Join(have, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("problems:\nhave %q\nwant %q", have, tc.want)
			}
		})
	}
}

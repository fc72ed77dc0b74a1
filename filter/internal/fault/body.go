package fault

import (
	"strconv"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/nedry-chaos/nedry/filter/internal/config"
)

// ApplyBody applies ops, in order, to body and returns the new body and the
// number of ops that left it alone: a JSON op on a body that does not parse
// as JSON or whose path is absent, a truncate longer than the body, a
// garble of an empty body. It may reuse body's array. JSON ops use gjson
// paths (dotted keys, array indexes) and sjson to write them.
func ApplyBody(ops []config.BodyOp, body []byte, r *Rand) ([]byte, int) {
	skipped := 0
	for _, op := range ops {
		var ok bool
		body, ok = applyBodyOp(op, body, r)
		if !ok {
			skipped++
		}
	}
	return body, skipped
}

func applyBodyOp(op config.BodyOp, body []byte, r *Rand) ([]byte, bool) {
	switch op.Kind {
	case config.BodyTruncate:
		if op.N >= len(body) {
			return body, false
		}
		return body[:op.N], true
	case config.BodyGarble:
		if len(body) == 0 {
			return body, false
		}
		for i := 0; i < op.N; i++ {
			body[r.Int63n(int64(len(body)))] = byte(0x21 + r.Int63n(0x7e-0x21+1))
		}
		return body, true
	case config.BodyReplace:
		return append(body[:0], op.Value...), true
	}
	// JSON ops.
	if !gjson.ValidBytes(body) {
		return body, false
	}
	res := gjson.GetBytes(body, op.Path)
	if !res.Exists() {
		return body, false
	}
	var out []byte
	var err error
	switch op.Kind {
	case config.BodySet:
		out, err = sjson.SetRawBytesOptions(body, op.Path, []byte(op.Value), replaceFound)
	case config.BodyRemove:
		out, err = sjson.DeleteBytes(body, op.Path)
	case config.BodyRetype:
		out, err = sjson.SetRawBytesOptions(body, op.Path, retyped(res), replaceFound)
	default:
		return body, false
	}
	if err != nil {
		return body, false
	}
	return out, true
}

// replaceFound tells sjson the path exists (gjson just found it), so it
// goes straight to the value instead of parsing the whole document again,
// and may write into the body's own array: about half the cost of a set on
// a 64 KiB body.
var replaceFound = &sjson.Options{Optimistic: true, ReplaceInPlace: true}

// retyped returns the JSON text of v as another type: numbers, booleans
// and null become the string of their text, objects and arrays the string
// of their JSON text, and strings a number when they read as one, else
// null (a client that checks types sees the wrong one either way).
func retyped(v gjson.Result) []byte {
	if v.Type == gjson.String {
		if _, err := strconv.ParseFloat(v.Str, 64); err == nil && gjson.Valid(v.Str) {
			return []byte(v.Str)
		}
		return []byte("null")
	}
	return appendJSONString(nil, v.Raw)
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, every other byte as is (s comes from a body
// that parsed as JSON, so it is valid UTF-8).
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

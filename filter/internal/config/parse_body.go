package config

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// Body limits.
const (
	// DefaultMaxBodyBytes is the largest body a body op corrupts unless
	// max_bytes says otherwise: Envoy's default buffer limit
	// (per_connection_buffer_limit_bytes), which a buffered body must stay
	// under.
	DefaultMaxBodyBytes = 1 << 20
	// MaxMaxBodyBytes bounds max_bytes.
	MaxMaxBodyBytes = 16 << 20
	// MaxBodyOps bounds the ops of one body.
	MaxBodyOps = 32
	// maxJSONPath bounds a JSON path.
	maxJSONPath = 1024
)

// jsonPathSpecial are the bytes with a meaning of their own in gjson paths
// besides '.' and '\\'.
const jsonPathSpecial = "*?#@|!=<>%"

// BodyOpKind names a body operation.
type BodyOpKind uint8

// Body operations. The JSON ones apply only to a body that parses as JSON.
const (
	// BodySet sets the value at Path to the JSON literal Value.
	BodySet BodyOpKind = iota + 1
	// BodyRemove removes the value at Path.
	BodyRemove
	// BodyRetype turns the value at Path into another JSON type: a number
	// or boolean or null becomes a string of its text, a string a number
	// when it reads as one (else a JSON null), an object or array the
	// string of its JSON text.
	BodyRetype
	// BodyTruncate keeps the first N bytes.
	BodyTruncate
	// BodyGarble replaces N bytes at random positions with random visible
	// ASCII.
	BodyGarble
	// BodyReplace replaces the whole body with Value.
	BodyReplace
)

var bodyOpNames = [...]string{
	BodySet: "set", BodyRemove: "remove", BodyRetype: "retype",
	BodyTruncate: "truncate", BodyGarble: "garble", BodyReplace: "replace",
}

// String returns the op's config spelling.
func (k BodyOpKind) String() string {
	if int(k) < len(bodyOpNames) && bodyOpNames[k] != "" {
		return bodyOpNames[k]
	}
	return "body op(" + strconv.Itoa(int(k)) + ")"
}

// JSON reports whether the op needs a JSON body.
func (k BodyOpKind) JSON() bool { return k == BodySet || k == BodyRemove || k == BodyRetype }

// BodyOp is one op of a body corruption.
type BodyOp struct {
	Kind BodyOpKind
	// Path is the gjson path of a JSON op (dotted keys, array indexes).
	Path string
	// Value is the compact JSON literal of set, or the new body of replace.
	Value string
	// N is truncate's length or garble's count.
	N int
}

// BodyCorrupt rewrites one direction's body (corrupt.request_body or
// corrupt.response_body).
type BodyCorrupt struct {
	Ops []BodyOp
	// ContentType must be contained in the content-type header, ASCII
	// case-insensitively, lowercase here; "" matches every body, with a
	// content-type or without.
	ContentType string
	// MaxBytes is the largest body corrupted; a larger one passes as is.
	MaxBytes int
	// JSON says some op needs the body to parse as JSON (and never touches
	// gRPC bodies).
	JSON bool
}

func bodyOpKind(s string) BodyOpKind {
	for k, n := range bodyOpNames {
		if n != "" && n == s {
			return BodyOpKind(k)
		}
	}
	return 0
}

func (p *parser) bodyCorrupt(path string, v gjson.Result) *BodyCorrupt {
	b := &BodyCorrupt{MaxBytes: DefaultMaxBodyBytes}
	hasOps, hasType := false, false
	ok := p.object(path, v, func(key, kp string, v gjson.Result) bool {
		switch key {
		case "ops":
			hasOps = true
			b.Ops = p.bodyOps(kp, v)
		case "content_type":
			hasType = true
			if s, ok := p.str(kp, v); ok {
				if !printable(s) || len(s) > maxHeaderName {
					p.fail(kp, "must be printable ASCII, at most "+strconv.Itoa(maxHeaderName)+" bytes", v)
					break
				}
				b.ContentType = strings.ToLower(s)
			}
		case "max_bytes":
			if n, ok := p.integer(kp, v, 1, MaxMaxBodyBytes); ok {
				b.MaxBytes = int(n)
			}
		default:
			return false
		}
		return true
	})
	if !ok {
		return b
	}
	if !hasOps {
		p.failText(join(path, "ops"), "required")
	}
	for _, op := range b.Ops {
		b.JSON = b.JSON || op.Kind.JSON()
	}
	if b.JSON && !hasType {
		b.ContentType = "json"
	}
	return b
}

func (p *parser) bodyOps(path string, v gjson.Result) []BodyOp {
	if !v.IsArray() {
		p.fail(path, "must be an array of ops", v)
		return nil
	}
	items := v.Array()
	if len(items) == 0 || len(items) > MaxBodyOps {
		p.fail(path, "must have 1 to "+strconv.Itoa(MaxBodyOps)+" ops", v)
		return nil
	}
	out := make([]BodyOp, 0, len(items))
	for i, item := range items {
		if op, ok := p.bodyOp(index(path, i), item); ok {
			out = append(out, op)
		}
	}
	return out
}

// bodyOpKeys says, per op, which of path, value and length/count it takes:
// r required, - not allowed.
var bodyOpKeys = [...]struct{ path, value, length, count byte }{
	BodySet:      {'r', 'r', '-', '-'},
	BodyRemove:   {'r', '-', '-', '-'},
	BodyRetype:   {'r', '-', '-', '-'},
	BodyTruncate: {'-', '-', 'r', '-'},
	BodyGarble:   {'-', '-', '-', 'r'},
	BodyReplace:  {'-', 'r', '-', '-'},
}

func bodyOpRule(k BodyOpKind, key string) byte {
	r := bodyOpKeys[k]
	switch key {
	case "path":
		return r.path
	case "value":
		return r.value
	case "length":
		return r.length
	}
	return r.count
}

func (p *parser) bodyOp(path string, v gjson.Result) (BodyOp, bool) {
	var op BodyOp
	if !v.IsObject() {
		p.fail(path, "must be an object", v)
		return op, false
	}
	before := len(p.problems)
	if kv := v.Get("op"); kv.Type == gjson.String {
		op.Kind = bodyOpKind(kv.Str)
	}
	seen := map[string]bool{}
	p.object(path, v, func(key, kp string, v gjson.Result) bool {
		switch key {
		case "op":
			if op.Kind == 0 {
				p.fail(kp, `must be one of "set", "remove", "retype", "truncate", "garble", "replace"`, v)
			}
			return true
		case "path", "value", "length", "count":
		default:
			return false
		}
		seen[key] = true
		if op.Kind == 0 {
			return true
		}
		if bodyOpRule(op.Kind, key) == '-' {
			p.failText(kp, "not allowed with op "+op.Kind.String())
			return true
		}
		switch key {
		case "path":
			s, ok := p.str(kp, v)
			if !ok {
				break
			}
			if why := CheckJSONPath(s); why != "" {
				p.fail(kp, why, v)
				break
			}
			op.Path = s
		case "value":
			if op.Kind == BodyReplace {
				s, ok := p.str(kp, v)
				if !ok {
					break
				}
				if len(s) > MaxBodyBytes {
					p.failText(kp, "must be at most "+strconv.Itoa(MaxBodyBytes)+" bytes, got "+strconv.Itoa(len(s))+" bytes")
					break
				}
				op.Value = s
				break
			}
			if len(v.Raw) > MaxBodyBytes {
				p.failText(kp, "must be at most "+strconv.Itoa(MaxBodyBytes)+" bytes of JSON, got "+strconv.Itoa(len(v.Raw))+" bytes")
				break
			}
			op.Value = compact(v.Raw)
		case "length":
			if n, ok := p.integer(kp, v, 0, MaxMaxBodyBytes); ok {
				op.N = int(n)
			}
		case "count":
			if n, ok := p.integer(kp, v, 1, maxTruncate); ok {
				op.N = int(n)
			}
		}
		return true
	})
	if !v.Get("op").Exists() {
		p.failText(join(path, "op"), "required")
	} else if op.Kind != 0 {
		for _, key := range [...]string{"path", "value", "length", "count"} {
			if bodyOpRule(op.Kind, key) == 'r' && !seen[key] {
				p.failText(join(path, key), "required with op "+op.Kind.String())
			}
		}
	}
	return op, len(p.problems) == before
}

// CheckJSONPath accepts the gjson paths body ops use: dot-separated keys
// and array indexes, no wildcards, modifiers, queries or multipaths (which
// select several values or compute one, and sjson cannot write to them).
// It returns why s is refused, or "".
func CheckJSONPath(s string) string {
	if s == "" {
		return "must be a JSON path like \"order.items.0.price\", not empty"
	}
	if len(s) > maxJSONPath {
		return "must be at most " + strconv.Itoa(maxJSONPath) + " bytes"
	}
	if !printable(s) {
		return "must be printable ASCII"
	}
	if s[0] == '{' || s[0] == '[' {
		// gjson reads a path that starts so as a multipath: a new
		// document built from several paths, not a place in this one.
		return "must be keys and array indexes separated by dots, not a multipath"
	}
	esc := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case c == '\\':
			esc = true
		case strings.IndexByte(jsonPathSpecial, c) >= 0:
			return "must be keys and array indexes separated by dots (escape " + string(c) + " with \\), no wildcards, queries, modifiers or multipaths"
		case c == '.' && (i == 0 || i == len(s)-1 || s[i+1] == '.'):
			return "must not have empty path segments"
		}
	}
	if esc {
		return "must not end with a lone backslash"
	}
	return ""
}

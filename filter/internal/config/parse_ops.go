package config

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

func opKind(s string) OpKind {
	for k, n := range opNames {
		if n != "" && n == s {
			return OpKind(k)
		}
	}
	return 0
}

func (p *parser) ops(path string, v gjson.Result, response bool) []HeaderOp {
	if !v.IsArray() {
		p.fail(path, "must be an array of ops", v)
		return nil
	}
	items := v.Array()
	if len(items) == 0 || len(items) > MaxOps {
		p.fail(path, "must have 1 to "+strconv.Itoa(MaxOps)+" ops", v)
		return nil
	}
	out := make([]HeaderOp, 0, len(items))
	for i, item := range items {
		if op, ok := p.op(index(path, i), item, response); ok {
			out = append(out, op)
		}
	}
	return out
}

// pseudoSettable lists the request pseudo-headers an op may set. Removing,
// emptying or appending a pseudo-header would make the request invalid (a
// request has exactly one of each), and :status is changed with the status
// op.
var pseudoSettable = map[string]bool{":path": true, ":method": true, ":authority": true, ":scheme": true}

// op validates one header op. The op kind decides which other keys are
// required or allowed, so it is read first; keys are still checked in
// document order.
func (p *parser) op(path string, v gjson.Result, response bool) (HeaderOp, bool) {
	var op HeaderOp
	if !v.IsObject() {
		p.fail(path, "must be an object", v)
		return op, false
	}
	before := len(p.problems)
	kv := v.Get("op")
	if kv.Type == gjson.String {
		op.Kind = opKind(kv.Str)
	}
	hasName, hasValue, hasLength := false, false, false
	p.object(path, v, func(key, kp string, v gjson.Result) bool {
		switch key {
		case "op":
			if _, ok := p.str(kp, v); !ok {
				break
			}
			switch {
			case op.Kind == 0:
				p.fail(kp, "must be one of remove, set, append, empty, truncate, garble, status", v)
			case op.Kind == OpStatus && !response:
				p.fail(kp, "status is only allowed in response ops", v)
			}
		case "name":
			hasName = true
			s, ok := p.str(kp, v)
			if !ok {
				break
			}
			if op.Kind == OpStatus {
				p.fail(kp, "not allowed with op status (it always sets :status)", v)
				break
			}
			if strings.HasPrefix(s, ":") {
				switch {
				case response || !pseudoSettable[s]:
					p.fail(kp, "pseudo-header not allowed here (request ops may set :path, :method, :authority, :scheme; use op status for :status)", v)
				case op.Kind != 0 && op.Kind != OpSet:
					p.fail(kp, "pseudo-header only allowed with op set (a request has exactly one of each)", v)
				default:
					op.Name = s
				}
				break
			}
			if why := checkWritableName(s); why != "" {
				p.fail(kp, why, v)
				break
			}
			op.Name = s
		case "value":
			hasValue = true
			if op.Kind != 0 && op.Kind != OpSet && op.Kind != OpAppend && op.Kind != OpStatus {
				p.fail(kp, "not allowed with op "+op.Kind.String(), v)
				break
			}
			if op.Kind == OpStatus {
				op.Value, _ = p.statusValue(kp, v)
				break
			}
			s, ok := p.str(kp, v)
			if !ok {
				break
			}
			if why := checkFieldValue(s); why != "" {
				p.fail(kp, why, v)
				break
			}
			op.Value = s
		case "length":
			hasLength = true
			if op.Kind != 0 && op.Kind != OpTruncate {
				p.fail(kp, "only allowed with op truncate", v)
				break
			}
			if n, ok := p.integer(kp, v, 0, maxTruncate); ok {
				op.Length = int(n)
			}
		default:
			return false
		}
		return true
	})
	if !kv.Exists() {
		p.failText(join(path, "op"), "required")
	}
	if op.Kind != 0 {
		if op.Kind != OpStatus && !hasName {
			p.failText(join(path, "name"), "required")
		}
		if (op.Kind == OpSet || op.Kind == OpAppend || op.Kind == OpStatus) && !hasValue {
			p.failText(join(path, "value"), "required")
		}
		if op.Kind == OpTruncate && !hasLength {
			p.failText(join(path, "length"), "required")
		}
		if strings.HasPrefix(op.Name, ":") && op.Value == "" && hasValue {
			p.failText(join(path, "value"), "must not be empty for a pseudo-header")
		}
		if strings.HasPrefix(op.Name, ":") && op.Value != "" {
			if why := checkPseudoValue(op.Name, op.Value); why != "" {
				p.fail(join(path, "value"), why, v.Get("value"))
			}
		}
	}
	if op.Kind == OpStatus {
		op.Name = ":status"
	}
	return op, len(p.problems) == before
}

// statusValue accepts the new :status as a number or a decimal string, both
// in [200, 599], and returns it as the decimal string the header carries.
func (p *parser) statusValue(path string, v gjson.Result) (string, bool) {
	const why = "must be an HTTP status in [200, 599], as a number or a string"
	switch v.Type {
	case gjson.Number:
		// The same integer rule as http_status: 502.0 is refused by both.
		if !plainInteger(v.Raw) {
			p.fail(path, whyInteger, v)
			return "", false
		}
		n, err := strconv.Atoi(v.Raw)
		if err == nil && n >= 200 && n <= 599 {
			return v.Raw, true
		}
	case gjson.String:
		n, err := strconv.Atoi(v.Str)
		if err == nil && n >= 200 && n <= 599 && len(v.Str) == 3 {
			return v.Str, true
		}
	}
	p.fail(path, why, v)
	return "", false
}

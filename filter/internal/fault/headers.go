package fault

import "github.com/nedry-chaos/nedry/filter/internal/config"

// HeaderMap is the view of a header map ApplyOps edits. The plugin implements
// it over the proxy-wasm header map hostcalls.
type HeaderMap interface {
	Get(name string) (string, bool)
	// Set replaces every value of name with value, adding it when absent.
	Set(name, value string)
	// Add adds another value of name.
	Add(name, value string)
	Remove(name string)
}

// ApplyOps applies ops to h in order. Truncate and garble leave absent
// headers absent. Garble draws one value from r per byte, so a fixed seed
// gives the same output. Every byte ApplyOps writes comes from the validated
// config or from printable ASCII, so the result is always a valid header.
func ApplyOps(ops []config.HeaderOp, h HeaderMap, r *Rand) {
	for i := range ops {
		op := &ops[i]
		switch op.Kind {
		case config.OpRemove:
			h.Remove(op.Name)
		case config.OpSet:
			h.Set(op.Name, op.Value)
		case config.OpAppend:
			h.Add(op.Name, op.Value)
		case config.OpEmpty:
			h.Set(op.Name, "")
		case config.OpTruncate:
			if v, ok := h.Get(op.Name); ok && len(v) > op.Length {
				h.Set(op.Name, v[:op.Length])
			}
		case config.OpGarble:
			if v, ok := h.Get(op.Name); ok && v != "" {
				h.Set(op.Name, Garble(len(v), r))
			}
		case config.OpStatus:
			h.Set(":status", op.Value)
		}
	}
}

// Garble returns n random printable ASCII characters (0x21..0x7e): visible,
// so the value stays a valid header value and never gains leading or
// trailing whitespace.
func Garble(n int, r *Rand) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(0x21 + r.Int63n(0x7e-0x21+1))
	}
	return string(b)
}

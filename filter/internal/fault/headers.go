package fault

import (
	"unsafe"

	"github.com/nedry-chaos/nedry/filter/internal/config"
)

// HeaderMap is the view of a header map ApplyOps edits. The plugin implements
// it over the proxy-wasm header map hostcalls.
//
// Set and Add must not keep value after they return: ApplyOps may pass a
// view of its reused scratch buffer (the hostcalls copy it into Envoy's map).
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
//
// Garbled values are built in *scratch, which grows as needed and is kept
// by the caller for the next request, so corruption allocates nothing once
// it is warm. A nil scratch uses a temporary buffer.
func ApplyOps(ops []config.HeaderOp, h HeaderMap, r *Rand, scratch *[]byte) {
	if scratch == nil {
		scratch = new([]byte)
	}
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
				*scratch = AppendGarble((*scratch)[:0], len(v), r)
				h.Set(op.Name, unsafe.String(&(*scratch)[0], len(*scratch)))
			}
		case config.OpStatus:
			h.Set(":status", op.Value)
		}
	}
}

// AppendGarble appends n random printable ASCII characters (0x21..0x7e) to
// dst: visible, so the value stays a valid header value and never gains
// leading or trailing whitespace.
func AppendGarble(dst []byte, n int, r *Rand) []byte {
	for range n {
		dst = append(dst, byte(0x21+r.Int63n(0x7e-0x21+1)))
	}
	return dst
}

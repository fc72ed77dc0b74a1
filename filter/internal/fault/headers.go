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
	// Get returns the first value of name. A value longer than
	// MaxOpValue may be reported as ValueTooLong without being read.
	Get(name string) (string, Lookup)
	// Set replaces every value of name with value, adding it when absent.
	Set(name, value string)
	// Add adds another value of name.
	Add(name, value string)
	Remove(name string)
}

// Lookup is what HeaderMap.Get found.
type Lookup uint8

const (
	ValueAbsent  Lookup = iota // no such header
	ValueFound                 // the value was read
	ValueTooLong               // longer than MaxOpValue, not read
)

// MaxOpValue bounds the header values truncate and garble act on: a longer
// value is left alone, and the op counts as skipped. Go's wasm memory never
// shrinks, so an op that copied or garbled a value of any length would keep
// the filter's memory as large as the largest value ever seen (one 8 MiB
// header under garble took a VM from 6.8 to 49 MiB for good). The plugin
// never even reads such a value into guest memory (abi's bounded get).
// 64 KiB is above what Envoy lets a whole header block be by default
// (max_request_headers_kb 60), so only proxies configured for huge headers
// ever meet the bound.
const MaxOpValue = 64 << 10

// ApplyOps applies ops to h in order and returns how many it skipped
// because a value was longer than MaxOpValue. Truncate and garble leave
// absent headers absent. Garble draws one value from r per byte, so a fixed seed
// gives the same output. Every byte ApplyOps writes comes from the validated
// config or from printable ASCII, so the result is always a valid header.
//
// Garbled values are built in *scratch, which grows as needed and is kept
// by the caller for the next request, so corruption allocates nothing once
// it is warm. A nil scratch uses a temporary buffer.
func ApplyOps(ops []config.HeaderOp, h HeaderMap, r *Rand, scratch *[]byte) (skipped int) {
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
			v, l := h.Get(op.Name)
			if l == ValueTooLong || len(v) > MaxOpValue {
				skipped++
			} else if l == ValueFound && len(v) > op.Length {
				h.Set(op.Name, v[:op.Length])
			}
		case config.OpGarble:
			v, l := h.Get(op.Name)
			if l == ValueTooLong || len(v) > MaxOpValue {
				skipped++
			} else if l == ValueFound && v != "" {
				*scratch = AppendGarble((*scratch)[:0], len(v), r)
				h.Set(op.Name, unsafe.String(&(*scratch)[0], len(*scratch)))
			}
		case config.OpStatus:
			h.Set(":status", op.Value)
		}
	}
	return skipped
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

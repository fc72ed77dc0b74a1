package abi

import "unsafe"

// Memory handed to the host.
//
// Envoy returns variable-size results (header values, pairs, buffers,
// properties) by calling proxy_on_memory_allocate from inside the host
// function, writing into that memory, and passing its address back. The Go
// GC does not know the host holds that address, so every allocation is kept
// in pinned until the host function that asked for it has returned and the
// wrapper has turned the address back into a Go slice (which then keeps it
// alive on its own). A host function may allocate more than once (pairs and
// their size, or two buffers), hence a list and not a single slot.
//
// Callbacks can nest (a host function may call back into the guest), so each
// wrapper releases only what was pinned after its own mark; the outermost
// callback clears whatever is left, so nothing accumulates.
var pinned [][]byte

// scratch is a buffer reused for results the caller consumes within one
// callback (see GetHeaderMapPairsTransient), so the request path leaves no
// garbage behind for them. scratchArmed hands it to the next allocation only.
var (
	scratch      []byte
	scratchArmed bool
)

// maxScratch bounds the reused buffer: a request with huge headers gets a
// one-off allocation instead of keeping that much memory for good.
const maxScratch = 64 << 10

// allocate answers proxy_on_memory_allocate. It must not call any proxy_*
// host function: Envoy allows only proxy_log and a few WASI calls here.
func allocate(size uint32) uint32 {
	if size == 0 {
		// The ABI reserves 0 for failure; hand out one byte instead.
		size = 1
	}
	if scratchArmed && size <= maxScratch {
		scratchArmed = false
		if uint32(cap(scratch)) < size {
			scratch = make([]byte, max(size, 1024))
		}
		buf := scratch[:size:size]
		pinned = append(pinned, buf)
		return uint32(uintptr(unsafe.Pointer(&buf[0])))
	}
	scratchArmed = false
	buf := make([]byte, size)
	pinned = append(pinned, buf)
	return uint32(uintptr(unsafe.Pointer(&buf[0])))
}

// pinMark returns the mark to pass to unpin after the host function returns.
func pinMark() int { return len(pinned) }

// unpin releases everything pinned since mark.
func unpin(mark int) {
	if mark >= len(pinned) {
		return
	}
	clear(pinned[mark:])
	pinned = pinned[:mark]
}

// take turns an address and size written by the host back into the Go slice
// allocate made for it. Looking the address up, rather than converting the
// integer to a pointer, also checks that the host answered with memory the
// guest really gave it.
func take(mark int, ptr, size uint32) ([]byte, error) {
	if size == 0 {
		return nil, nil
	}
	for i := len(pinned) - 1; i >= mark; i-- {
		b := pinned[i]
		if uint32(uintptr(unsafe.Pointer(&b[0]))) == ptr {
			if int(size) > len(b) {
				return nil, ErrInvalidMemoryAccess
			}
			return b[:size:size], nil
		}
	}
	return nil, ErrInvalidMemoryAccess
}

// bytesString views b as a string without copying. b must be a buffer the
// host filled for us and nobody writes afterwards, which holds for every
// result of take.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// stringData returns the address of s for the host (nil for "").
func stringData(s string) *byte { return unsafe.StringData(s) }

// sliceData returns the address of b for the host (nil for empty).
func sliceData(b []byte) *byte {
	if len(b) == 0 {
		return nil
	}
	return &b[0]
}

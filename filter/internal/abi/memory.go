package abi

import (
	"runtime"
	"unsafe"
)

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

// arena holds results the caller consumes within the current callback
// (header pairs, header values, properties on the request path), so the
// request path leaves no garbage behind for them: a bump allocator whose
// bytes are handed out again once the outermost callback has returned.
// arenaArmed hands the next allocation only to it; the wrappers that arm it
// (the *Transient ones) document how long their result is valid.
var (
	arena      []byte
	arenaArmed bool
)

// maxArena bounds the arena: a request with huge headers gets one-off
// allocations instead of keeping that much memory for good.
const maxArena = 64 << 10

// arenaTake returns n bytes from the arena, or nil when the callback has
// used up maxArena. Growing moves to a new array, which is safe: results
// handed out earlier in the callback keep the old one alive through their
// own slices, and the next callbacks use the new one.
func arenaTake(n int) []byte {
	off := len(arena)
	if off+n > cap(arena) {
		if off+n > maxArena {
			return nil
		}
		arena = make([]byte, off, min(maxArena, max(2*cap(arena), off+n, 1024)))
	}
	arena = arena[:off+n]
	return arena[off : off+n : off+n]
}

// largeSince counts the bytes handed to the host outside the arena since
// the last collection.
var largeSince int

// collectThreshold is how many such bytes a callback may leave behind
// before the outermost callback collects them.
const collectThreshold = 1 << 20

// collectLarge runs a garbage collection when the callback that just ended
// took in more than collectThreshold bytes outside the arena: a request with
// megabytes of headers. Left to the runtime, that garbage was still there
// when the next such request came (the collector's goal is twice the live
// heap, and a callback-driven guest gives its background work little
// chance to run), so two copies lived at once and the VM's memory, which
// never shrinks, grew by twice the largest header block seen (8 MiB of
// headers: 3.8 to 21.5 MiB). Collecting costs milliseconds, only for such
// requests: Envoy's default max_request_headers_kb (60) keeps every header
// block under the arena.
func collectLarge() {
	if largeSince > collectThreshold {
		largeSince = 0
		runtime.GC()
	}
}

// resetArena makes the whole arena available again. It runs when the
// outermost callback starts, so no result of an earlier callback is in use.
func resetArena() { arena = arena[:0] }

// allocLimit, when not 0, makes allocate decline anything larger (see
// GetHeaderMapValueBounded), and allocDeclined records that it did.
var (
	allocLimit    uint32
	allocDeclined bool
)

// short receives the one value a GetHeaderMapValueShort asks for: a
// package array, which never moves and is never collected, so the host may
// hold its address without a pin, and reading a status costs none of the
// pin, arena and lookup steps of the general path (BenchmarkTimed/guarded).
var short struct {
	buf             [shortMax]byte
	armed, declined bool
}

// shortMax bounds a value GetHeaderMapValueShort reads: a status code.
const shortMax = 16

// allocate answers proxy_on_memory_allocate. It must not call any proxy_*
// host function: Envoy allows only proxy_log and a few WASI calls here.
func allocate(size uint32) uint32 {
	if short.armed {
		short.armed = false
		if size > shortMax {
			short.declined = true
			return 0 // the host call fails, and nothing was written
		}
		return uint32(uintptr(unsafe.Pointer(&short.buf[0])))
	}
	if size == 0 {
		// The ABI reserves 0 for failure; hand out one byte instead.
		size = 1
	}
	if allocLimit != 0 && size > allocLimit {
		// 0 is the ABI's failure answer: cpp-host's allocMemory then fails
		// the host call with InvalidMemoryAccess, and nothing was written.
		allocDeclined, arenaArmed = true, false
		return 0
	}
	var buf []byte
	if arenaArmed {
		arenaArmed = false
		buf = arenaTake(int(size))
	}
	if buf == nil {
		buf = make([]byte, size)
		largeSince += int(size)
	}
	pinned = append(pinned, buf)
	return uint32(uintptr(unsafe.Pointer(&buf[0])))
}

// pinMark returns the mark to pass to unpin after the host function returns.
func pinMark() int { return len(pinned) }

// unpin releases everything pinned since mark. It clears the entries one
// by one rather than with clear(pinned[mark:]): clear on a slice of
// pointers calls runtime.memclrHasPointers and bulkBarrierPreWrite, three
// calls into the runtime for the one buffer a host call pins, on every
// request (BenchmarkRequest, guest time).
func unpin(mark int) {
	if mark >= len(pinned) {
		return
	}
	for i := mark; i < len(pinned); i++ {
		pinned[i] = nil
	}
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

package abi

import (
	"context"
	"encoding/binary"

	"github.com/tetratelabs/wazero/api"
)

// This file is the only place that reads and writes guest memory.

// read returns a view of guest memory [ptr, ptr+size). The view is only valid
// until the guest runs again (an allocation may grow and move memory), so
// callers copy what they keep. Out of bounds is misuse; cpp-host answers
// InvalidMemoryAccess.
func (vm *VM) read(call string, ptr, size uint32) ([]byte, bool) {
	b, ok := vm.mem.Read(ptr, size)
	if !ok {
		vm.misuse(call, "memory [%d, %d) is out of bounds (memory size %d)", ptr, uint64(ptr)+uint64(size), vm.mem.Size())
	}
	return b, ok
}

func (vm *VM) writeU32(call string, ptr, v uint32) bool {
	if !vm.mem.WriteUint32Le(ptr, v) {
		vm.misuse(call, "cannot write 4 bytes at %d (memory size %d)", ptr, vm.mem.Size())
		return false
	}
	return true
}

func (vm *VM) writeU64(call string, ptr uint32, v uint64) bool {
	if !vm.mem.WriteUint64Le(ptr, v) {
		vm.misuse(call, "cannot write 8 bytes at %d (memory size %d)", ptr, vm.mem.Size())
		return false
	}
	return true
}

// alloc asks the guest for size bytes through proxy_on_memory_allocate, as
// cpp-host's WasmBase::allocMemory: only proxy_log, fd_write, clock_time_get
// and poll_oneoff may be called meanwhile; a zero pointer or a block outside
// memory fails the hostcall with InvalidMemoryAccess. A zero pointer is the
// guest declining (the spec's failure answer, which cpp-host handles without
// failing the VM), so it is no misuse: a guest may refuse to take in a value
// larger than it wants to hold. A block outside memory is.
func (vm *VM) alloc(call string, size uint32) (uint32, []byte, bool) {
	if vm.fn.malloc == nil {
		vm.misuse(call, "module exports neither proxy_on_memory_allocate nor malloc")
		return 0, nil, false
	}
	prev := vm.restrict
	vm.restrict = restrictAlloc
	vm.allocStk[0] = uint64(size)
	err := vm.fn.malloc.CallWithStack(vm.ctx, vm.allocStk[:])
	vm.restrict = prev
	if err != nil {
		// A trap inside the allocator is a trap of the running callback.
		panic(err)
	}
	ptr := uint32(vm.allocStk[0])
	if ptr == 0 {
		return 0, nil, false
	}
	b, ok := vm.mem.Read(ptr, size)
	if !ok {
		vm.misuse(call, "proxy_on_memory_allocate(%d) returned %d, outside memory (size %d)", size, ptr, vm.mem.Size())
		return 0, nil, false
	}
	return ptr, b, true
}

// copyOut hands data to the guest as cpp-host's copyToPointerSize: an empty
// value is pointer 0, size 0 with no allocation; otherwise a block from
// proxy_on_memory_allocate, then the pointer and size are written.
func (vm *VM) copyOut(call string, data []byte, ptrPtr, sizePtr uint32) Status {
	var ptr uint32
	if len(data) > 0 {
		p, buf, ok := vm.alloc(call, uint32(len(data)))
		if !ok {
			return StatusInvalidMemoryAccess
		}
		copy(buf, data)
		ptr = p
	}
	return vm.writePtrSize(call, ptrPtr, sizePtr, ptr, uint32(len(data)))
}

// writePtrSize answers a hostcall's return_data and return_size arguments.
func (vm *VM) writePtrSize(call string, ptrPtr, sizePtr, ptr, size uint32) Status {
	if !vm.writeU32(call, ptrPtr, ptr) || !vm.writeU32(call, sizePtr, size) {
		return StatusInvalidMemoryAccess
	}
	return StatusOK
}

// Limits of cpp-host's PairsUtil::toPairs (include/proxy-wasm/limits.h).
const (
	pairsMaxBytes = 1 << 20
	pairsMaxCount = 1024
)

// pairsSize is the length of pairs in the pairs format.
func pairsSize(pairs [][2]string) int {
	size := 4
	for _, p := range pairs {
		size += 8 + len(p[0]) + 1 + len(p[1]) + 1
	}
	return size
}

// putPairs serializes pairs in the proxy-wasm format (src/pairs_util.cc)
// into dst, which is exactly pairsSize(pairs) long: u32 count, count × (u32
// key size, u32 value size), then each key and value followed by a NUL.
func putPairs(dst []byte, pairs [][2]string) {
	binary.LittleEndian.PutUint32(dst, uint32(len(pairs)))
	off := 4
	for _, p := range pairs {
		binary.LittleEndian.PutUint32(dst[off:], uint32(len(p[0])))
		binary.LittleEndian.PutUint32(dst[off+4:], uint32(len(p[1])))
		off += 8
	}
	for _, p := range pairs {
		off += copy(dst[off:], p[0])
		dst[off] = 0
		off++
		off += copy(dst[off:], p[1])
		dst[off] = 0
		off++
	}
}

// decodePairs parses the proxy-wasm pairs format with cpp-host's checks:
// size and count limits, every key and value NUL-terminated, no trailing
// bytes. cpp-host turns any violation into an empty list; ok reports it so
// strict mode can fail loudly.
//
// The keys and values are substrings of one string copied out of b, so a
// decode costs two allocations whatever the number of pairs, and nothing
// returned aliases b (guest memory, which the guest may reuse).
//
// Two arguments save those allocations on a path that decodes on every
// request. A non-nil last caches the string: a guest passing the same pairs
// again gets substrings of the cached one. A non-nil room whose capacity
// holds every pair is where the pairs go, capacity cut to their number, in
// place of a new slice.
func decodePairs(b []byte, last *lastString, room [][2]string) (pairs [][2]string, ok bool) {
	n, text, ok := checkPairs(b)
	if !ok || len(b) == 0 {
		return nil, ok
	}
	var s string
	if last != nil {
		s = last.of(b[text:])
	} else {
		s = string(b[text:])
	}
	if room != nil && cap(room) >= int(n) {
		pairs = room[:n:n]
	} else {
		pairs = make([][2]string, n)
	}
	slicePairs(pairs, b[4:text], s)
	return pairs, true
}

// checkPairs validates a pairs block without allocating: n is the number of
// pairs and text the offset where their keys and values start. An empty
// block is valid and holds no pairs.
func checkPairs(b []byte) (n uint32, text int, ok bool) {
	if len(b) == 0 {
		return 0, 0, true
	}
	if len(b) > pairsMaxBytes || len(b) < 4 {
		return 0, 0, false
	}
	n = binary.LittleEndian.Uint32(b)
	if n > pairsMaxCount || 4+uint64(n)*8 > uint64(len(b)) {
		return 0, 0, false
	}
	sizes := b[4 : 4+n*8]
	pos := uint64(4 + n*8)
	end := uint64(len(b))
	for i := uint32(0); i < n; i++ {
		ks := uint64(binary.LittleEndian.Uint32(sizes[i*8:]))
		vs := uint64(binary.LittleEndian.Uint32(sizes[i*8+4:]))
		if pos+ks+1 > end || b[pos+ks] != 0 {
			return 0, 0, false
		}
		pos += ks + 1
		if pos+vs+1 > end || b[pos+vs] != 0 {
			return 0, 0, false
		}
		pos += vs + 1
	}
	if pos != end {
		return 0, 0, false
	}
	return n, int(4 + n*8), true
}

// slicePairs cuts the pairs that checkPairs accepted out of text, the
// block's keys and values (NULs included), using the size table sizes.
func slicePairs(pairs [][2]string, sizes []byte, text string) {
	pos := 0
	for i := range pairs {
		ks := int(binary.LittleEndian.Uint32(sizes[i*8:]))
		vs := int(binary.LittleEndian.Uint32(sizes[i*8+4:]))
		pairs[i][0] = text[pos : pos+ks]
		pos += ks + 1
		pairs[i][1] = text[pos : pos+vs]
		pos += vs + 1
	}
}

// EncodePairs and DecodePairs expose the pairs format to the host package
// and its tests.
func EncodePairs(pairs [][2]string) []byte {
	b := make([]byte, pairsSize(pairs))
	putPairs(b, pairs)
	return b
}

// DecodePairs parses the pairs format; ok is false when cpp-host would have
// rejected it.
func DecodePairs(b []byte) ([][2]string, bool) { return decodePairs(b, nil, nil) }

// lastString is a one-entry cache of a string copied out of guest memory. A
// guest that passes the same bytes on every call (Nedry passes the same
// details and headers on every abort) then costs no allocation for it.
// Strings are immutable, so results sharing one cannot tell.
type lastString struct{ s string }

// of returns b as a string: the cached one when the bytes are equal, else a
// new copy, which replaces it.
func (c *lastString) of(b []byte) string {
	// string(b) in a comparison does not allocate.
	if string(b) != c.s {
		c.s = string(b)
	}
	return c.s
}

// vmOf returns the VM a hostcall belongs to, counts the call and enforces
// cpp-host's restricted-callback sets: a call outside the set traps with
// "restricted_callback", as Envoy's default runtime (V8) does.
func vmOf(ctx context.Context, name string) *VM {
	vm := ctx.Value(vmKey{}).(*VM)
	vm.hostCalls.Add(1)
	switch vm.restrict {
	case restrictStart:
		if !startAllowed[name] {
			panic(&MisuseError{Call: name, State: "during _initialize/main/_start (VM start-up)",
				Msg: "restricted_callback: only proxy_log and WASI may be called while the VM starts; " +
					"define metrics, read config and set ticks from proxy_on_vm_start or proxy_on_configure"})
		}
	case restrictAlloc:
		if !allocAllowed[name] {
			panic(&MisuseError{Call: name, State: "inside proxy_on_memory_allocate",
				Msg: "restricted_callback: only proxy_log, fd_write, clock_time_get and poll_oneoff may be called while allocating"})
		}
	}
	return vm
}

// startAllowed is cpp-host's set for WasmBase::startVm (src/wasm.cc):
// emscripten_notify_memory_growth, proxy_log and every WASI function.
var startAllowed = map[string]bool{"proxy_log": true, "emscripten_notify_memory_growth": true}

// allocAllowed is cpp-host's set for WasmBase::allocMemory (include/proxy-wasm/wasm.h).
var allocAllowed = map[string]bool{"proxy_log": true, "fd_write": true, "clock_time_get": true, "poll_oneoff": true}

func init() {
	for _, f := range wasiFuncs {
		startAllowed[f.name] = true
	}
}

// hostFunc is one host function export.
type hostFunc struct {
	name    string
	params  []api.ValueType
	results []api.ValueType
	fn      api.GoModuleFunc
}

var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

func sig(n int) []api.ValueType {
	p := make([]api.ValueType, n)
	for i := range p {
		p[i] = i32
	}
	return p
}

var one = []api.ValueType{i32}

func u32(v uint64) uint32 { return uint32(v) }

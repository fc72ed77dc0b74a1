// Command alloc has a proxy_on_memory_allocate that misbehaves on request:
// the request header x-alloc selects "zero" (returns 0, declining), "oob"
// (returns a pointer past the end of memory) or "restricted" (calls a
// forbidden hostcall while allocating). The status of the get made with
// that behaviour goes upstream in x-get-status.
package main

import "unsafe"

//go:wasmimport env proxy_get_header_map_value
func proxyGetHeaderMapValue(mt, kp, ks uint32, rp, rs *uint32) uint32

//go:wasmimport env proxy_add_header_map_value
func proxyAddHeaderMapValue(mt, kp, ks, vp, vs uint32) uint32

//go:wasmimport env proxy_set_tick_period_milliseconds
func proxySetTickPeriodMilliseconds(ms uint32) uint32

var (
	mode string
	held [][]byte
)

//go:wasmexport proxy_abi_version_0_2_1
func proxyABIVersion() {}

//go:wasmexport proxy_on_memory_allocate
func proxyOnMemoryAllocate(size uint32) uint32 {
	switch mode {
	case "zero":
		return 0
	case "oob":
		return 0xffff0000
	case "restricted":
		proxySetTickPeriodMilliseconds(1)
	}
	b := make([]byte, size)
	held = append(held, b)
	return uint32(uintptr(unsafe.Pointer(&b[0])))
}

func get(key string) (string, uint32) {
	k := []byte(key)
	var p, s uint32
	if st := proxyGetHeaderMapValue(0, uint32(uintptr(unsafe.Pointer(&k[0]))), uint32(len(k)), &p, &s); st != 0 || s == 0 {
		return "", st
	}
	return string(unsafe.Slice((*byte)(unsafe.Pointer(uintptr(p))), s)), 0
}

func add(key, value string) {
	k, v := []byte(key), []byte(value)
	proxyAddHeaderMapValue(0, uint32(uintptr(unsafe.Pointer(&k[0]))), uint32(len(k)),
		uint32(uintptr(unsafe.Pointer(&v[0]))), uint32(len(v)))
}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	held = held[:0]
	mode = ""
	m, _ := get("x-alloc")
	mode = m
	_, st := get(":path") // allocates with the selected behaviour
	mode = ""
	add("x-get-status", string(rune('0'+st)))
	return 0
}

func main() {}

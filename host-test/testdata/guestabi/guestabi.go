package guestabi

// Package guestabi holds the proxy-wasm imports and helpers shared by the
// harness's tiny test guests (testdata/guests/*): each guest imports it and
// the Go linker keeps only the imports that guest calls. Importing it also
// exports proxy_abi_version_0_2_1 and proxy_on_memory_allocate.

import "unsafe"

//go:wasmimport env proxy_log
func ProxyLog(level, Ptr, size uint32) uint32

//go:wasmimport env proxy_get_header_map_value
func ProxyGetHeaderMapValue(mt, kp, ks uint32, rp, rs *uint32) uint32

//go:wasmimport env proxy_add_header_map_value
func ProxyAddHeaderMapValue(mt, kp, ks, vp, vs uint32) uint32

//go:wasmimport env proxy_replace_header_map_value
func ProxyReplaceHeaderMapValue(mt, kp, ks, vp, vs uint32) uint32

//go:wasmimport env proxy_remove_header_map_value
func ProxyRemoveHeaderMapValue(mt, kp, ks uint32) uint32

//go:wasmimport env proxy_get_header_map_pairs
func ProxyGetHeaderMapPairs(mt uint32, rp, rs *uint32) uint32

//go:wasmimport env proxy_set_header_map_pairs
func ProxySetHeaderMapPairs(mt, p, s uint32) uint32

//go:wasmimport env proxy_get_header_map_size
func ProxyGetHeaderMapSize(mt uint32, rs *uint32) uint32

//go:wasmimport env proxy_get_buffer_bytes
func ProxyGetBufferBytes(bt, start, length uint32, rp, rs *uint32) uint32

//go:wasmimport env proxy_set_buffer_bytes
func ProxySetBufferBytes(bt, start, length, p, s uint32) uint32

//go:wasmimport env proxy_get_property
func ProxyGetProperty(pp, ps uint32, rp, rs *uint32) uint32

//go:wasmimport env proxy_get_shared_data
func ProxyGetSharedData(kp, ks uint32, vp, vs, cas *uint32) uint32

//go:wasmimport env proxy_set_shared_data
func ProxySetSharedData(kp, ks, vp, vs, cas uint32) uint32

//go:wasmimport env proxy_set_property
func ProxySetProperty(kp, ks, vp, vs uint32) uint32

//go:wasmimport env proxy_define_metric
func ProxyDefineMetric(t, np, ns uint32, id *uint32) uint32

//go:wasmimport env proxy_increment_metric
func ProxyIncrementMetric(id uint32, offset int64) uint32

//go:wasmimport env proxy_record_metric
func ProxyRecordMetric(id uint32, v uint64) uint32

//go:wasmimport env proxy_get_metric
func ProxyGetMetric(id uint32, v *uint64) uint32

//go:wasmimport env proxy_set_tick_period_milliseconds
func ProxySetTickPeriodMilliseconds(ms uint32) uint32

//go:wasmimport env proxy_set_effective_context
func ProxySetEffectiveContext(id uint32) uint32

//go:wasmimport env proxy_continue_stream
func ProxyContinueStream(t uint32) uint32

//go:wasmimport env proxy_close_stream
func ProxyCloseStream(t uint32) uint32

//go:wasmimport env proxy_send_local_response
func ProxySendLocalResponse(status, dp, ds, bp, bs, hp, hs, grpc uint32) uint32

//go:wasmimport env proxy_done
func ProxyDone() uint32

//go:wasmimport env proxy_get_log_level
func ProxyGetLogLevel(l *uint32) uint32

//go:wasmimport env proxy_get_current_time_nanoseconds
func ProxyGetCurrentTimeNanoseconds(t *uint64) uint32

// Held keeps memory handed to the host reachable until the next callback.
var Held [][]byte

//go:wasmexport proxy_on_memory_allocate
func proxyOnMemoryAllocate(size uint32) uint32 {
	b := make([]byte, size)
	Held = append(Held, b)
	return uint32(uintptr(unsafe.Pointer(&b[0])))
}

//go:wasmexport proxy_abi_version_0_2_1
func proxyABIVersion() {}

func Ptr(s string) (uint32, uint32) {
	if len(s) == 0 {
		return 0, 0
	}
	b := []byte(s)
	Held = append(Held, b)
	return uint32(uintptr(unsafe.Pointer(&b[0]))), uint32(len(b))
}

func BytesAt(p, n uint32) string {
	if n == 0 {
		return ""
	}
	return string(unsafe.Slice((*byte)(unsafe.Pointer(uintptr(p))), n))
}

func Logf(level uint32, msg string) {
	p, n := Ptr(msg)
	ProxyLog(level, p, n)
}

func GetHeader(mt uint32, key string) (string, uint32) {
	kp, ks := Ptr(key)
	var rp, rs uint32
	st := ProxyGetHeaderMapValue(mt, kp, ks, &rp, &rs)
	return BytesAt(rp, rs), st
}

func AddHeader(mt uint32, key, value string) uint32 {
	kp, ks := Ptr(key)
	vp, vs := Ptr(value)
	return ProxyAddHeaderMapValue(mt, kp, ks, vp, vs)
}

func ReplaceHeader(mt uint32, key, value string) uint32 {
	kp, ks := Ptr(key)
	vp, vs := Ptr(value)
	return ProxyReplaceHeaderMapValue(mt, kp, ks, vp, vs)
}

func RemoveHeader(mt uint32, key string) uint32 {
	kp, ks := Ptr(key)
	return ProxyRemoveHeaderMapValue(mt, kp, ks)
}

func Itoa(v int64) string {
	if v == 0 {
		return "0"
	}
	neg := v < 0
	if neg {
		v = -v
	}
	var b [24]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

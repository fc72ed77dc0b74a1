package main

// The proxy-wasm imports and helpers shared by the test guests. Each guest
// directory holds its own copy (testdata/guests/*/common.go) so that every
// guest builds on its own with `go build ./host-test/testdata/guests/<name>`;
// the Go linker keeps only the imports a guest calls.

import "unsafe"

//go:wasmimport env proxy_log
func proxyLog(level, ptr, size uint32) uint32

//go:wasmimport env proxy_get_header_map_value
func proxyGetHeaderMapValue(mt, kp, ks uint32, rp, rs *uint32) uint32

//go:wasmimport env proxy_add_header_map_value
func proxyAddHeaderMapValue(mt, kp, ks, vp, vs uint32) uint32

//go:wasmimport env proxy_replace_header_map_value
func proxyReplaceHeaderMapValue(mt, kp, ks, vp, vs uint32) uint32

//go:wasmimport env proxy_remove_header_map_value
func proxyRemoveHeaderMapValue(mt, kp, ks uint32) uint32

//go:wasmimport env proxy_get_header_map_pairs
func proxyGetHeaderMapPairs(mt uint32, rp, rs *uint32) uint32

//go:wasmimport env proxy_set_header_map_pairs
func proxySetHeaderMapPairs(mt, p, s uint32) uint32

//go:wasmimport env proxy_get_header_map_size
func proxyGetHeaderMapSize(mt uint32, rs *uint32) uint32

//go:wasmimport env proxy_get_buffer_bytes
func proxyGetBufferBytes(bt, start, length uint32, rp, rs *uint32) uint32

//go:wasmimport env proxy_set_buffer_bytes
func proxySetBufferBytes(bt, start, length, p, s uint32) uint32

//go:wasmimport env proxy_get_property
func proxyGetProperty(pp, ps uint32, rp, rs *uint32) uint32

//go:wasmimport env proxy_define_metric
func proxyDefineMetric(t, np, ns uint32, id *uint32) uint32

//go:wasmimport env proxy_increment_metric
func proxyIncrementMetric(id uint32, offset int64) uint32

//go:wasmimport env proxy_record_metric
func proxyRecordMetric(id uint32, v uint64) uint32

//go:wasmimport env proxy_get_metric
func proxyGetMetric(id uint32, v *uint64) uint32

//go:wasmimport env proxy_set_tick_period_milliseconds
func proxySetTickPeriodMilliseconds(ms uint32) uint32

//go:wasmimport env proxy_set_effective_context
func proxySetEffectiveContext(id uint32) uint32

//go:wasmimport env proxy_continue_stream
func proxyContinueStream(t uint32) uint32

//go:wasmimport env proxy_close_stream
func proxyCloseStream(t uint32) uint32

//go:wasmimport env proxy_send_local_response
func proxySendLocalResponse(status, dp, ds, bp, bs, hp, hs, grpc uint32) uint32

//go:wasmimport env proxy_done
func proxyDone() uint32

//go:wasmimport env proxy_get_log_level
func proxyGetLogLevel(l *uint32) uint32

//go:wasmimport env proxy_get_current_time_nanoseconds
func proxyGetCurrentTimeNanoseconds(t *uint64) uint32

// held keeps memory handed to the host reachable until the next callback.
var held [][]byte

//go:wasmexport proxy_on_memory_allocate
func proxyOnMemoryAllocate(size uint32) uint32 {
	b := make([]byte, size)
	held = append(held, b)
	return uint32(uintptr(unsafe.Pointer(&b[0])))
}

//go:wasmexport proxy_abi_version_0_2_1
func proxyABIVersion() {}

func ptr(s string) (uint32, uint32) {
	if len(s) == 0 {
		return 0, 0
	}
	b := []byte(s)
	held = append(held, b)
	return uint32(uintptr(unsafe.Pointer(&b[0]))), uint32(len(b))
}

func bytesAt(p, n uint32) string {
	if n == 0 {
		return ""
	}
	return string(unsafe.Slice((*byte)(unsafe.Pointer(uintptr(p))), n))
}

func logf(level uint32, msg string) {
	p, n := ptr(msg)
	proxyLog(level, p, n)
}

func getHeader(mt uint32, key string) (string, uint32) {
	kp, ks := ptr(key)
	var rp, rs uint32
	st := proxyGetHeaderMapValue(mt, kp, ks, &rp, &rs)
	return bytesAt(rp, rs), st
}

func addHeader(mt uint32, key, value string) uint32 {
	kp, ks := ptr(key)
	vp, vs := ptr(value)
	return proxyAddHeaderMapValue(mt, kp, ks, vp, vs)
}

func replaceHeader(mt uint32, key, value string) uint32 {
	kp, ks := ptr(key)
	vp, vs := ptr(value)
	return proxyReplaceHeaderMapValue(mt, kp, ks, vp, vs)
}

func removeHeader(mt uint32, key string) uint32 {
	kp, ks := ptr(key)
	return proxyRemoveHeaderMapValue(mt, kp, ks)
}

func itoa(v int64) string {
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

func main() {}

//go:build !wasip1

package abi

// Outside the guest there is no proxy-wasm host. These bodies exist so that
// packages above abi compile, vet and run their pure tests natively; calling
// one is a programming error, and it says so instead of pretending to work.

func notInGuest() uint32 {
	panic("abi: proxy-wasm host functions exist only in the wasm guest (GOOS=wasip1)")
}

func proxyLog(uint32, *byte, uint32) uint32                               { return notInGuest() }
func proxyGetLogLevel(*uint32) uint32                                     { return notInGuest() }
func proxyGetBufferBytes(uint32, uint32, uint32, *uint32, *uint32) uint32 { return notInGuest() }
func proxySetBufferBytes(uint32, uint32, uint32, *byte, uint32) uint32    { return notInGuest() }
func proxyGetHeaderMapValue(uint32, *byte, uint32, *uint32, *uint32) uint32 {
	return notInGuest()
}
func proxyAddHeaderMapValue(uint32, *byte, uint32, *byte, uint32) uint32 { return notInGuest() }
func proxyReplaceHeaderMapValue(uint32, *byte, uint32, *byte, uint32) uint32 {
	return notInGuest()
}
func proxyRemoveHeaderMapValue(uint32, *byte, uint32) uint32  { return notInGuest() }
func proxyGetHeaderMapPairs(uint32, *uint32, *uint32) uint32  { return notInGuest() }
func proxySetHeaderMapPairs(uint32, *byte, uint32) uint32     { return notInGuest() }
func proxyGetProperty(*byte, uint32, *uint32, *uint32) uint32 { return notInGuest() }
func proxySetProperty(*byte, uint32, *byte, uint32) uint32    { return notInGuest() }
func proxyGetSharedData(*byte, uint32, *uint32, *uint32, *uint32) uint32 {
	return notInGuest()
}
func proxySetSharedData(*byte, uint32, *byte, uint32, uint32) uint32 { return notInGuest() }
func proxySendLocalResponse(uint32, *byte, uint32, *byte, uint32, *byte, uint32, int32) uint32 {
	return notInGuest()
}
func proxyContinueStream(uint32) uint32                       { return notInGuest() }
func proxyCloseStream(uint32) uint32                          { return notInGuest() }
func proxySetEffectiveContext(uint32) uint32                  { return notInGuest() }
func proxySetTickPeriodMilliseconds(uint32) uint32            { return notInGuest() }
func proxyGetCurrentTimeNanoseconds(*uint64) uint32           { return notInGuest() }
func proxyDefineMetric(uint32, *byte, uint32, *uint32) uint32 { return notInGuest() }
func proxyIncrementMetric(uint32, int64) uint32               { return notInGuest() }
func proxyRecordMetric(uint32, uint64) uint32                 { return notInGuest() }
func proxyGetMetric(uint32, *uint64) uint32                   { return notInGuest() }
func proxyDone() uint32                                       { return notInGuest() }
func proxyHTTPCall(*byte, uint32, *byte, uint32, *byte, uint32, *byte, uint32, uint32, *uint32) uint32 {
	return notInGuest()
}

func clockTimeGet(uint32, uint64, *uint64) uint32 { return notInGuest() }

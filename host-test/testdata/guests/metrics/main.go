// Command metrics defines a counter, a gauge and a histogram at configure
// time and updates them per request.
package main

var counter, gauge, hist uint32

func define(t uint32, name string) (uint32, uint32) {
	p, s := ptr(name)
	var id uint32
	st := proxyDefineMetric(t, p, s, &id)
	return id, st
}

//go:wasmexport proxy_on_configure
func onConfigure(root, size uint32) uint32 {
	held = held[:0]
	counter, _ = define(0, "test.requests")
	gauge, _ = define(1, "test.active")
	hist, _ = define(2, "test.sizes")
	_, st := define(3, "test.bad")
	logf(2, "bad type status="+itoa(int64(st)))
	return 1
}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	held = held[:0]
	proxyIncrementMetric(counter, 1)
	proxyIncrementMetric(gauge, 1)
	proxyRecordMetric(hist, 42)
	var v uint64
	proxyGetMetric(counter, &v)
	addHeader(0, "x-count", itoa(int64(v)))
	addHeader(0, "x-hist-get", itoa(int64(proxyGetMetric(hist, &v))))
	addHeader(0, "x-unknown-get", itoa(int64(proxyGetMetric(9999, &v))))
	return 0
}

//go:wasmexport proxy_on_log
func onLog(id uint32) { proxyIncrementMetric(gauge, -1) }

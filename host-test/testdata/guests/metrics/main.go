// Command metrics defines a counter, a gauge and a histogram at configure
// time and updates them per request.
package main

import "github.com/nedry-chaos/nedry/host-test/testdata/guestabi"

var counter, gauge, hist uint32

func define(t uint32, name string) (uint32, uint32) {
	p, s := guestabi.Ptr(name)
	var id uint32
	st := guestabi.ProxyDefineMetric(t, p, s, &id)
	return id, st
}

//go:wasmexport proxy_on_configure
func onConfigure(root, size uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	counter, _ = define(0, "test.requests")
	gauge, _ = define(1, "test.active")
	hist, _ = define(2, "test.sizes")
	_, st := define(3, "test.bad")
	guestabi.Logf(2, "bad type status="+guestabi.Itoa(int64(st)))
	return 1
}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	guestabi.ProxyIncrementMetric(counter, 1)
	guestabi.ProxyIncrementMetric(gauge, 1)
	guestabi.ProxyRecordMetric(hist, 42)
	var v uint64
	guestabi.ProxyGetMetric(counter, &v)
	guestabi.AddHeader(0, "x-count", guestabi.Itoa(int64(v)))
	guestabi.AddHeader(0, "x-hist-get", guestabi.Itoa(int64(guestabi.ProxyGetMetric(hist, &v))))
	guestabi.AddHeader(0, "x-unknown-get", guestabi.Itoa(int64(guestabi.ProxyGetMetric(9999, &v))))
	return 0
}

//go:wasmexport proxy_on_log
func onLog(id uint32) { guestabi.ProxyIncrementMetric(gauge, -1) }

func main() {}

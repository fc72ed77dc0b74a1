// Command trap panics (a trap for the host) in proxy_on_request_headers when
// the request has x-trap, and counts the requests it saw.
package main

var seen uint32

//go:wasmexport proxy_on_configure
func onConfigure(root, size uint32) uint32 { return 1 }

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	held = held[:0]
	seen++
	if _, st := getHeader(0, "x-trap"); st == 0 {
		panic("trap requested")
	}
	addHeader(0, "x-seen", itoa(int64(seen)))
	return 0
}

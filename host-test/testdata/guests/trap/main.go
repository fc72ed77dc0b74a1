// Command trap panics (a trap for the host) in proxy_on_request_headers when
// the request has x-trap, and counts the requests it saw.
package main

import "github.com/nedry-chaos/nedry/host-test/testdata/guestabi"

var seen uint32

//go:wasmexport proxy_on_configure
func onConfigure(root, size uint32) uint32 { return 1 }

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	seen++
	if _, st := guestabi.GetHeader(0, "x-trap"); st == 0 {
		panic("trap requested")
	}
	guestabi.AddHeader(0, "x-seen", guestabi.Itoa(int64(seen)))
	return 0
}

func main() {}

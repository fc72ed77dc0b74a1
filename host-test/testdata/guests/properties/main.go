// Command properties reads the properties named in the request header
// x-props (comma separated, dotted) and adds x-prop-<name>: value (or
// !<status>) to the request.
package main

import (
	"github.com/nedry-chaos/nedry/host-test/testdata/guestabi"
	"strings"
)

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	names, _ := guestabi.GetHeader(0, "x-props")
	for _, name := range strings.Split(names, ",") {
		pp, ps := guestabi.Ptr(strings.ReplaceAll(name, ".", "\x00"))
		var rp, rs uint32
		st := guestabi.ProxyGetProperty(pp, ps, &rp, &rs)
		v := guestabi.BytesAt(rp, rs)
		if st != 0 {
			v = "!" + guestabi.Itoa(int64(st))
		}
		guestabi.AddHeader(0, "x-prop-"+name, v)
	}
	return 0
}

func main() {}

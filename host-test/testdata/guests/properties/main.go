// Command properties reads the properties named in the request header
// x-props (comma separated, dotted) and adds x-prop-<name>: value (or
// !<status>) to the request.
package main

import "strings"

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	held = held[:0]
	names, _ := getHeader(0, "x-props")
	for _, name := range strings.Split(names, ",") {
		pp, ps := ptr(strings.ReplaceAll(name, ".", "\x00"))
		var rp, rs uint32
		st := proxyGetProperty(pp, ps, &rp, &rs)
		v := bytesAt(rp, rs)
		if st != 0 {
			v = "!" + itoa(int64(st))
		}
		addHeader(0, "x-prop-"+name, v)
	}
	return 0
}

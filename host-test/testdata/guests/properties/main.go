// Command properties first sets the properties listed in the request header
// x-set-props (comma separated name=value; the name is passed as is) with
// proxy_set_property, adding x-set-<name>: <status>; then it reads the
// properties named in x-props (comma separated, dotted) and adds
// x-prop-<name>: value (or !<status>) to the request. At proxy_on_tick it
// sets the property "root" from the root context and logs the status.
package main

import (
	"github.com/nedry-chaos/nedry/host-test/testdata/guestabi"
	"strings"
)

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	if sets, st := guestabi.GetHeader(0, "x-set-props"); st == 0 {
		for _, kv := range strings.Split(sets, ",") {
			k, v, _ := strings.Cut(kv, "=")
			kp, ks := guestabi.Ptr(k)
			vp, vs := guestabi.Ptr(v)
			guestabi.AddHeader(0, "x-set-"+k, guestabi.Itoa(int64(guestabi.ProxySetProperty(kp, ks, vp, vs))))
		}
	}
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

//go:wasmexport proxy_on_configure
func onConfigure(id, size uint32) uint32 {
	guestabi.ProxySetTickPeriodMilliseconds(10)
	return 1
}

//go:wasmexport proxy_on_tick
func onTick(id uint32) {
	kp, ks := guestabi.Ptr("root")
	vp, vs := guestabi.Ptr("x")
	guestabi.Logf(2, "root set_property="+guestabi.Itoa(int64(guestabi.ProxySetProperty(kp, ks, vp, vs))))
	guestabi.ProxySetTickPeriodMilliseconds(0)
}

func main() {}

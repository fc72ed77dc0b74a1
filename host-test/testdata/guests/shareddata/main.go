// Command shareddata drives proxy_get_shared_data and proxy_set_shared_data
// from request headers: x-set: <key>=<value>@<cas> sets (cas in decimal, 0
// for none) and adds x-set-status: <status>; then x-get: <key> gets and adds
// x-got: <value>@<cas>, or !<status>.
package main

import (
	"strconv"
	"strings"

	"github.com/nedry-chaos/nedry/host-test/testdata/guestabi"
)

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	if set, st := guestabi.GetHeader(0, "x-set"); st == 0 {
		kv, casText, _ := strings.Cut(set, "@")
		k, v, _ := strings.Cut(kv, "=")
		cas, _ := strconv.ParseUint(casText, 10, 32)
		kp, ks := guestabi.Ptr(k)
		vp, vs := guestabi.Ptr(v)
		guestabi.AddHeader(0, "x-set-status", guestabi.Itoa(int64(guestabi.ProxySetSharedData(kp, ks, vp, vs, uint32(cas)))))
	}
	if k, st := guestabi.GetHeader(0, "x-get"); st == 0 {
		kp, ks := guestabi.Ptr(k)
		var vp, vs, cas uint32
		got := "!"
		if st := guestabi.ProxyGetSharedData(kp, ks, &vp, &vs, &cas); st != 0 {
			got += guestabi.Itoa(int64(st))
		} else {
			got = guestabi.BytesAt(vp, vs) + "@" + guestabi.Itoa(int64(cas))
		}
		guestabi.AddHeader(0, "x-got", got)
	}
	return 0
}

func main() {}

// Command headers exercises the header-map hostcalls. The request header
// x-op selects the operation; results go into request headers the upstream
// sees (x-result-*) or into response headers.
package main

import (
	"encoding/binary"
	"github.com/nedry-chaos/nedry/host-test/testdata/guestabi"
)

const (
	reqHeaders  = 0
	respHeaders = 2
)

var op = map[uint32]string{}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	o, _ := guestabi.GetHeader(reqHeaders, "x-op")
	op[id] = o
	switch o {
	case "add":
		guestabi.AddHeader(reqHeaders, "X-Multi", "2")
	case "replace":
		guestabi.ReplaceHeader(reqHeaders, "x-multi", "replaced")
		guestabi.ReplaceHeader(reqHeaders, "x-new", "added")
	case "remove":
		guestabi.AddHeader(reqHeaders, "x-result-remove", guestabi.Itoa(int64(guestabi.RemoveHeader(reqHeaders, "x-multi"))))
		guestabi.AddHeader(reqHeaders, "x-result-remove-missing", guestabi.Itoa(int64(guestabi.RemoveHeader(reqHeaders, "x-none"))))
	case "get-first":
		v, _ := guestabi.GetHeader(reqHeaders, "x-multi")
		guestabi.AddHeader(reqHeaders, "x-result-first", v)
	case "missing":
		_, st := guestabi.GetHeader(reqHeaders, "x-none")
		guestabi.AddHeader(reqHeaders, "x-result-missing", guestabi.Itoa(int64(st)))
	case "pairs":
		var p, s, size uint32
		guestabi.ProxyGetHeaderMapPairs(reqHeaders, &p, &s)
		raw := guestabi.BytesAt(p, s)
		count := binary.LittleEndian.Uint32([]byte(raw))
		guestabi.ProxyGetHeaderMapSize(reqHeaders, &size)
		// Check the layout: sizes first, then NUL-terminated keys and values.
		off := 4 + 8*count
		ok := true
		for i := uint32(0); i < count; i++ {
			ks := binary.LittleEndian.Uint32([]byte(raw[4+8*i:]))
			vs := binary.LittleEndian.Uint32([]byte(raw[8+8*i:]))
			if raw[off+ks] != 0 || raw[off+ks+1+vs] != 0 {
				ok = false
			}
			off += ks + 1 + vs + 1
		}
		guestabi.AddHeader(reqHeaders, "x-result-count", guestabi.Itoa(int64(count)))
		guestabi.AddHeader(reqHeaders, "x-result-bytes", guestabi.Itoa(int64(s)))
		guestabi.AddHeader(reqHeaders, "x-result-size", guestabi.Itoa(int64(size)))
		if ok && off == s {
			guestabi.AddHeader(reqHeaders, "x-result-layout", "ok")
		}
	case "set-pairs":
		buf := []byte{2, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0}
		buf = append(buf, ":path\x00/\x00a\x00bb\x00"...)
		guestabi.Held = append(guestabi.Held, buf)
		p, s := guestabi.Ptr(string(buf))
		guestabi.ProxySetHeaderMapPairs(reqHeaders, p, s)
	case "bad-bytes":
		guestabi.AddHeader(reqHeaders, "x-evil", "a\r\nb")
	case "bad-type":
		kp, ks := guestabi.Ptr("x")
		var rp, rs uint32
		st := guestabi.ProxyGetHeaderMapValue(8, kp, ks, &rp, &rs)
		guestabi.AddHeader(reqHeaders, "x-result-bad-type", guestabi.Itoa(int64(st)))
	case "oob":
		guestabi.ProxyAddHeaderMapValue(reqHeaders, 0xfffffff0, 64, 0, 0)
	}
	return 0
}

//go:wasmexport proxy_on_request_body
func onRequestBody(id, n, eos uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	if op[id] == "write-after-continue" {
		guestabi.AddHeader(reqHeaders, "x-late", "1")
	}
	return 0
}

//go:wasmexport proxy_on_response_headers
func onResponseHeaders(id, n, eos uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	_, st := guestabi.GetHeader(reqHeaders, ":path")
	guestabi.AddHeader(respHeaders, "x-request-map-status", guestabi.Itoa(int64(st)))
	status, _ := guestabi.GetHeader(respHeaders, ":status")
	guestabi.AddHeader(respHeaders, "x-seen-status", status)
	return 0
}

//go:wasmexport proxy_on_delete
func onDelete(id uint32) { delete(op, id) }

func main() {}

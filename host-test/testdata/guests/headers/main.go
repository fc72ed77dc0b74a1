// Command headers exercises the header-map hostcalls. The request header
// x-op selects the operation; results go into request headers the upstream
// sees (x-result-*) or into response headers.
package main

import "encoding/binary"

const (
	reqHeaders  = 0
	respHeaders = 2
)

var op = map[uint32]string{}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	held = held[:0]
	o, _ := getHeader(reqHeaders, "x-op")
	op[id] = o
	switch o {
	case "add":
		addHeader(reqHeaders, "X-Multi", "2")
	case "replace":
		replaceHeader(reqHeaders, "x-multi", "replaced")
		replaceHeader(reqHeaders, "x-new", "added")
	case "remove":
		addHeader(reqHeaders, "x-result-remove", itoa(int64(removeHeader(reqHeaders, "x-multi"))))
		addHeader(reqHeaders, "x-result-remove-missing", itoa(int64(removeHeader(reqHeaders, "x-none"))))
	case "missing":
		_, st := getHeader(reqHeaders, "x-none")
		addHeader(reqHeaders, "x-result-missing", itoa(int64(st)))
	case "pairs":
		var p, s, size uint32
		proxyGetHeaderMapPairs(reqHeaders, &p, &s)
		raw := bytesAt(p, s)
		count := binary.LittleEndian.Uint32([]byte(raw))
		proxyGetHeaderMapSize(reqHeaders, &size)
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
		addHeader(reqHeaders, "x-result-count", itoa(int64(count)))
		addHeader(reqHeaders, "x-result-bytes", itoa(int64(s)))
		addHeader(reqHeaders, "x-result-size", itoa(int64(size)))
		if ok && off == s {
			addHeader(reqHeaders, "x-result-layout", "ok")
		}
	case "set-pairs":
		buf := []byte{2, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0}
		buf = append(buf, ":path\x00/\x00a\x00bb\x00"...)
		held = append(held, buf)
		p, s := ptr(string(buf))
		proxySetHeaderMapPairs(reqHeaders, p, s)
	case "bad-bytes":
		addHeader(reqHeaders, "x-evil", "a\r\nb")
	case "bad-type":
		kp, ks := ptr("x")
		var rp, rs uint32
		st := proxyGetHeaderMapValue(8, kp, ks, &rp, &rs)
		addHeader(reqHeaders, "x-result-bad-type", itoa(int64(st)))
	case "oob":
		proxyAddHeaderMapValue(reqHeaders, 0xfffffff0, 64, 0, 0)
	}
	return 0
}

//go:wasmexport proxy_on_request_body
func onRequestBody(id, n, eos uint32) uint32 {
	held = held[:0]
	if op[id] == "write-after-continue" {
		addHeader(reqHeaders, "x-late", "1")
	}
	return 0
}

//go:wasmexport proxy_on_response_headers
func onResponseHeaders(id, n, eos uint32) uint32 {
	held = held[:0]
	_, st := getHeader(reqHeaders, ":path")
	addHeader(respHeaders, "x-request-map-status", itoa(int64(st)))
	status, _ := getHeader(respHeaders, ":status")
	addHeader(respHeaders, "x-seen-status", status)
	return 0
}

//go:wasmexport proxy_on_delete
func onDelete(id uint32) { delete(op, id) }

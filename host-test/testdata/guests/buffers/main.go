// Command buffers exercises the buffer hostcalls: VM and plugin
// configuration, request and response bodies.
package main

import "github.com/nedry-chaos/nedry/host-test/testdata/guestabi"

const (
	reqHeaders = 0
	bodyReq    = 0
	bodyResp   = 1
	vmConfig   = 6
	pluginCfg  = 7
)

func buffer(t, start, n uint32) (string, uint32, uint32) {
	var p, s uint32
	st := guestabi.ProxyGetBufferBytes(t, start, n, &p, &s)
	return guestabi.BytesAt(p, s), p, st
}

//go:wasmexport proxy_on_vm_start
func onVMStart(root, size uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	v, _, _ := buffer(vmConfig, 0, size)
	guestabi.Logf(2, "vm_config="+v)
	return 1
}

//go:wasmexport proxy_on_configure
func onConfigure(root, size uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	cfg, _, _ := buffer(pluginCfg, 0, size)
	if cfg == "refuse" {
		guestabi.Logf(4, "refusing configuration")
		return 0
	}
	guestabi.Logf(2, "config="+cfg)
	return 1
}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	_, _, st := buffer(bodyReq, 0, 10)
	guestabi.AddHeader(reqHeaders, "x-body-status", guestabi.Itoa(int64(st)))
	_, _, st = buffer(pluginCfg, 0, 10)
	guestabi.AddHeader(reqHeaders, "x-config-status", guestabi.Itoa(int64(st)))
	return 0
}

//go:wasmexport proxy_on_request_body
func onRequestBody(id, n, eos uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	body, _, _ := buffer(bodyReq, 0, n)
	part, _, _ := buffer(bodyReq, 2, 3)
	past, p, st := buffer(bodyReq, n+5, 10)
	guestabi.Logf(2, "body="+body+" part="+part+" past="+past+" ptr="+guestabi.Itoa(int64(p))+" status="+guestabi.Itoa(int64(st)))
	np, ns := guestabi.Ptr("replaced:" + body)
	guestabi.ProxySetBufferBytes(bodyReq, 0, n, np, ns)
	return 0
}

//go:wasmexport proxy_on_response_body
func onResponseBody(id, n, eos uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	ap, as := guestabi.Ptr("+tail")
	guestabi.ProxySetBufferBytes(bodyResp, n, 0, ap, as)
	return 0
}

func main() {}

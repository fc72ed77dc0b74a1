// Command buffers exercises the buffer hostcalls: VM and plugin
// configuration, request and response bodies.
package main

const (
	reqHeaders = 0
	bodyReq    = 0
	bodyResp   = 1
	vmConfig   = 6
	pluginCfg  = 7
)

func buffer(t, start, n uint32) (string, uint32, uint32) {
	var p, s uint32
	st := proxyGetBufferBytes(t, start, n, &p, &s)
	return bytesAt(p, s), p, st
}

//go:wasmexport proxy_on_vm_start
func onVMStart(root, size uint32) uint32 {
	held = held[:0]
	v, _, _ := buffer(vmConfig, 0, size)
	logf(2, "vm_config="+v)
	return 1
}

//go:wasmexport proxy_on_configure
func onConfigure(root, size uint32) uint32 {
	held = held[:0]
	cfg, _, _ := buffer(pluginCfg, 0, size)
	if cfg == "refuse" {
		logf(4, "refusing configuration")
		return 0
	}
	logf(2, "config="+cfg)
	return 1
}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	held = held[:0]
	_, _, st := buffer(bodyReq, 0, 10)
	addHeader(reqHeaders, "x-body-status", itoa(int64(st)))
	_, _, st = buffer(pluginCfg, 0, 10)
	addHeader(reqHeaders, "x-config-status", itoa(int64(st)))
	return 0
}

//go:wasmexport proxy_on_request_body
func onRequestBody(id, n, eos uint32) uint32 {
	held = held[:0]
	body, _, _ := buffer(bodyReq, 0, n)
	part, _, _ := buffer(bodyReq, 2, 3)
	past, p, st := buffer(bodyReq, n+5, 10)
	logf(2, "body="+body+" part="+part+" past="+past+" ptr="+itoa(int64(p))+" status="+itoa(int64(st)))
	np, ns := ptr("replaced:" + body)
	proxySetBufferBytes(bodyReq, 0, n, np, ns)
	return 0
}

//go:wasmexport proxy_on_response_body
func onResponseBody(id, n, eos uint32) uint32 {
	held = held[:0]
	ap, as := ptr("+tail")
	proxySetBufferBytes(bodyResp, n, 0, ap, as)
	return 0
}

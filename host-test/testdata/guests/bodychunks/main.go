// Command bodychunks exercises body delivery chunk by chunk: buffering with
// StopIterationAndBuffer, proxy_get_buffer_bytes and proxy_set_buffer_bytes
// on the buffered body, and content-length handling. The x-mode request
// header picks what it does with both bodies of the stream:
//
//   - stream: each chunk passes at once, wrapped as "<chunk>";
//   - buffer: every chunk but the last is buffered (Pause); the last sees
//     the whole body, logs "seen=<size>:<body>" and replaces it with
//     "[body]" (start 0, length = size);
//   - drain: like buffer, but writes "XY" with start 0 and length 2, which
//     in Envoy drains two bytes and prepends;
//   - middle: like buffer, but writes with start 1, length 1 (BadArgument)
//     and logs the status;
//   - hold: Pause even on the last chunk; proxy_on_tick continues it;
//   - keep-length: like buffer, but leaves content-length as it came.
//
// In every mode but keep-length, content-length is removed at headers time,
// as a filter that rewrites a body must.
package main

import "github.com/nedry-chaos/nedry/host-test/testdata/guestabi"

const (
	reqHeaders  = 0
	respHeaders = 2
	bodyReq     = 0
	bodyResp    = 1
)

var (
	modes = map[uint32]string{}
	held  [][2]uint32 // context id, stream type (0 request, 1 response)
)

//go:wasmexport proxy_on_vm_start
func onVMStart(root, size uint32) uint32 { return 1 }

//go:wasmexport proxy_on_configure
func onConfigure(root, size uint32) uint32 {
	guestabi.ProxySetTickPeriodMilliseconds(10)
	return 1
}

//go:wasmexport proxy_on_context_create
func onContextCreate(id, parent uint32) {}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	mode, _ := guestabi.GetHeader(reqHeaders, "x-mode")
	modes[id] = mode
	if mode != "keep-length" {
		guestabi.RemoveHeader(reqHeaders, "content-length")
	}
	return 0
}

//go:wasmexport proxy_on_response_headers
func onResponseHeaders(id, n, eos uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	if modes[id] != "keep-length" {
		guestabi.RemoveHeader(respHeaders, "content-length")
	}
	return 0
}

func body(t, id, n, eos uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	var p, s uint32
	guestabi.ProxyGetBufferBytes(t, 0, n, &p, &s)
	b := guestabi.BytesAt(p, s)
	switch mode := modes[id]; mode {
	case "stream":
		np, ns := guestabi.Ptr("<" + b + ">")
		guestabi.ProxySetBufferBytes(t, 0, n, np, ns)
		return 0
	case "buffer", "drain", "middle", "hold", "keep-length":
		if eos == 0 {
			return 1
		}
		guestabi.Logf(2, "seen="+guestabi.Itoa(int64(n))+":"+b)
		switch mode {
		case "drain":
			np, ns := guestabi.Ptr("XY")
			guestabi.ProxySetBufferBytes(t, 0, 2, np, ns)
		case "middle":
			np, ns := guestabi.Ptr("z")
			st := guestabi.ProxySetBufferBytes(t, 1, 1, np, ns)
			guestabi.Logf(2, "middle status="+guestabi.Itoa(int64(st)))
		case "hold":
			held = append(held, [2]uint32{id, t})
			return 1
		default:
			np, ns := guestabi.Ptr("[" + b + "]")
			guestabi.ProxySetBufferBytes(t, 0, n, np, ns)
		}
	}
	return 0
}

//go:wasmexport proxy_on_request_body
func onRequestBody(id, n, eos uint32) uint32 { return body(bodyReq, id, n, eos) }

//go:wasmexport proxy_on_response_body
func onResponseBody(id, n, eos uint32) uint32 { return body(bodyResp, id, n, eos) }

//go:wasmexport proxy_on_tick
func onTick(root uint32) {
	for _, h := range held {
		guestabi.ProxySetEffectiveContext(h[0])
		guestabi.ProxyContinueStream(h[1])
	}
	held = held[:0]
}

//go:wasmexport proxy_on_delete
func onDelete(id uint32) { delete(modes, id) }

func main() {}

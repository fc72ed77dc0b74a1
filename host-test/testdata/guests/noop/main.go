// Command noop is the no-op floor guest for benchmarks: every callback Nedry
// exports, each doing nothing and answering Continue or true.
package main

import "github.com/nedry-chaos/nedry/host-test/testdata/guestabi"

//go:wasmexport proxy_on_vm_start
func onVMStart(root, size uint32) uint32 { return 1 }

//go:wasmexport proxy_on_configure
func onConfigure(root, size uint32) uint32 { return 1 }

//go:wasmexport proxy_on_context_create
func onContextCreate(id, parent uint32) { guestabi.Held = guestabi.Held[:0] }

//go:wasmexport proxy_on_tick
func onTick(root uint32) {}

//go:wasmexport proxy_on_done
func onDone(id uint32) uint32 { return 1 }

//go:wasmexport proxy_on_log
func onLog(id uint32) {}

//go:wasmexport proxy_on_delete
func onDelete(id uint32) {}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 { return 0 }

//go:wasmexport proxy_on_request_body
func onRequestBody(id, n, eos uint32) uint32 { return 0 }

//go:wasmexport proxy_on_request_trailers
func onRequestTrailers(id, n uint32) uint32 { return 0 }

//go:wasmexport proxy_on_response_headers
func onResponseHeaders(id, n, eos uint32) uint32 { return 0 }

//go:wasmexport proxy_on_response_body
func onResponseBody(id, n, eos uint32) uint32 { return 0 }

//go:wasmexport proxy_on_response_trailers
func onResponseTrailers(id, n uint32) uint32 { return 0 }

func main() {}

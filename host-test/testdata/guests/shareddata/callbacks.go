package main

// The callbacks below do nothing. The harness needs none of them, but the
// proxytest emulator calls every one without checking that it is exported,
// and the shared-data cross-check (host-test/nedry_crosscheck_state_test.go)
// runs this guest there too.

//go:wasmexport proxy_on_vm_start
func onVMStart(root, size uint32) uint32 { return 1 }

//go:wasmexport proxy_on_configure
func onConfigure(root, size uint32) uint32 { return 1 }

//go:wasmexport proxy_on_context_create
func onContextCreate(id, parent uint32) {}

//go:wasmexport proxy_on_done
func onDone(id uint32) uint32 { return 1 }

//go:wasmexport proxy_on_log
func onLog(id uint32) {}

//go:wasmexport proxy_on_tick
func onTick(root uint32) {}

//go:wasmexport proxy_on_queue_ready
func onQueueReady(root, queue uint32) {}

//go:wasmexport proxy_on_request_body
func onRequestBody(id, size, eos uint32) uint32 { return 0 }

//go:wasmexport proxy_on_request_trailers
func onRequestTrailers(id, n uint32) uint32 { return 0 }

//go:wasmexport proxy_on_response_headers
func onResponseHeaders(id, n, eos uint32) uint32 { return 0 }

//go:wasmexport proxy_on_response_body
func onResponseBody(id, size, eos uint32) uint32 { return 0 }

//go:wasmexport proxy_on_response_trailers
func onResponseTrailers(id, n uint32) uint32 { return 0 }

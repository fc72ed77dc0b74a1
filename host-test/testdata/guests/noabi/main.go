// Command noabi is a module without a proxy_abi_version_* export, which
// Envoy refuses to load.
package main

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 { return 0 }

func main() {}

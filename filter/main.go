// Command nedry is the chaos-engineering HTTP filter, compiled to a
// proxy-wasm (ABI 0.2.1) module for Envoy:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o build/nedry.wasm ./filter
//
// This file only wires the plugin into the ABI layer.
package main

import (
	"github.com/nedry-chaos/nedry/filter/internal/abi"
	"github.com/nedry-chaos/nedry/filter/internal/plugin"
)

// init runs inside _initialize, where Envoy allows no host call but
// proxy_log: it only registers Go values.
func init() {
	p := plugin.New()
	abi.SetRootFactory(p.NewRoot)
	abi.SetPanicHook(p.CountPanic)
	abi.SetRequestTrailersHook(plugin.StripControlTrailers)
}

// main is required by -buildmode=c-shared and never called: the host drives
// the module through the exported proxy_on_* callbacks.
func main() {}

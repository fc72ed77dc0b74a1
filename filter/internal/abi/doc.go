// Package abi is Nedry's side of the proxy-wasm ABI v0.2.1: the host
// functions it imports, the callbacks it exports, the registry of contexts
// the ABI forces on a guest, and the pinning of memory handed to the host.
//
// It runs in the guest. It is the only package with //go:wasmimport and
// //go:wasmexport directives (those files build only for GOOS=wasip1, so the
// rest of the module still compiles and vets natively). Everything above it
// talks to the host through the typed wrappers in hostcalls.go and receives
// callbacks through the RootContext and StreamContext interfaces.
//
// Spec: https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1
// Envoy's behaviour: https://github.com/proxy-wasm/proxy-wasm-cpp-host
// (src/exports.cc, src/context.cc, src/wasm.cc).
package abi

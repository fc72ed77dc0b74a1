//go:build wasip1 && nedrydebug

package abi

import "runtime"

// nedry_debug_mallocs returns runtime.MemStats.Mallocs, the number of heap
// objects the guest allocated so far. It exists only in builds tagged
// nedrydebug, which host-test compiles to prove that the request path
// allocates nothing; the shipped module never exports it (Envoy would not
// mind, but the export surface is checked and ReadMemStats stops the world).
//
//go:wasmexport nedry_debug_mallocs
func nedryDebugMallocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

//go:build 386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm

package abi

import "unsafe"

// le32 reads the little-endian uint32 at s[i:i+4], which the caller has
// bounds-checked (ParsePairs checks the whole size table once). On a
// little-endian machine, wasm included, that is one plain load: assembling
// the four bytes costs enough to keep Cursor.Next from being inlined into
// the request path's header scan.
func le32(s string, i int) uint32 {
	return *(*uint32)(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), i))
}

//go:build wasip1

package abi

// proxy_on_memory_allocate: the host asks for size bytes to return a result
// in. See memory.go for why the buffer is pinned.
//
//go:wasmexport proxy_on_memory_allocate
func proxyOnMemoryAllocate(size uint32) uint32 {
	return allocate(size)
}

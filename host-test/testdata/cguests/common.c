/*
 * What both C reference guests share: the ABI version, the allocator the
 * host calls to hand data over, and every callback the harness calls except
 * proxy_on_request_headers, each doing nothing. The set matches the Go no-op
 * guest (testdata/guests/noop), so the harness makes the same calls on both
 * and only the guests' own cost differs.
 */
#include "proxy_wasm.h"

EXPORT("proxy_abi_version_0_2_1") void proxy_abi_version_0_2_1(void) {}

/*
 * A bump allocator from __heap_base, growing memory when a block does not
 * fit. Blocks live until the next arena_reset: the only data the host hands
 * over is the header map of one callback, so nothing outlives it. It is the
 * cheapest allocator there is, which is the point of a reference guest.
 */
extern unsigned char __heap_base;
static uintptr_t arena_next;

void arena_reset(void) { arena_next = (uintptr_t)&__heap_base; }

EXPORT("proxy_on_memory_allocate") void *proxy_on_memory_allocate(uint32_t size) {
	if (arena_next == 0)
		arena_reset();
	uintptr_t p = (arena_next + 7) & ~(uintptr_t)7;
	if (size > UINTPTR_MAX - p)
		return 0;
	uintptr_t end = p + size;
	uintptr_t have = (uintptr_t)__builtin_wasm_memory_size(0) << 16;
	if (end > have) {
		uintptr_t pages = ((end - have) + 0xffff) >> 16;
		if (__builtin_wasm_memory_grow(0, pages) == (__SIZE_TYPE__)-1)
			return 0;
	}
	arena_next = end;
	return (void *)p;
}

EXPORT("proxy_on_vm_start") uint32_t proxy_on_vm_start(uint32_t root, uint32_t size) { return 1; }
EXPORT("proxy_on_configure") uint32_t proxy_on_configure(uint32_t root, uint32_t size) { return 1; }
EXPORT("proxy_on_context_create") void proxy_on_context_create(uint32_t id, uint32_t parent) {}
EXPORT("proxy_on_tick") void proxy_on_tick(uint32_t root) {}
EXPORT("proxy_on_done") uint32_t proxy_on_done(uint32_t id) { return 1; }
EXPORT("proxy_on_log") void proxy_on_log(uint32_t id) {}
EXPORT("proxy_on_delete") void proxy_on_delete(uint32_t id) {}

EXPORT("proxy_on_request_body")
uint32_t proxy_on_request_body(uint32_t id, uint32_t size, uint32_t eos) { return ACTION_CONTINUE; }
EXPORT("proxy_on_request_trailers")
uint32_t proxy_on_request_trailers(uint32_t id, uint32_t n) { return ACTION_CONTINUE; }
EXPORT("proxy_on_response_headers")
uint32_t proxy_on_response_headers(uint32_t id, uint32_t n, uint32_t eos) { return ACTION_CONTINUE; }
EXPORT("proxy_on_response_body")
uint32_t proxy_on_response_body(uint32_t id, uint32_t size, uint32_t eos) { return ACTION_CONTINUE; }
EXPORT("proxy_on_response_trailers")
uint32_t proxy_on_response_trailers(uint32_t id, uint32_t n) { return ACTION_CONTINUE; }

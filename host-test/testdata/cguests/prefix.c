/*
 * The C reference guest for a request no rule matches: the work any filter
 * that matches on the path must do, and nothing else. It fetches the request
 * headers with one host call (proxy_get_header_map_pairs, which hands them
 * over through proxy_on_memory_allocate), finds :path and checks one prefix.
 * A request under the prefix gets a 503 local reply, so a test can see the
 * check happen; every other request continues untouched.
 */
#include "proxy_wasm.h"

static const char prefix[] = "/pass/";
static const char details[] = "c_prefix";

static uint32_t load32(const uint8_t *p) {
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int equal(const uint8_t *a, const char *b, uint32_t n) {
	for (uint32_t i = 0; i < n; i++)
		if (a[i] != (uint8_t)b[i])
			return 0;
	return 1;
}

/*
 * path_has_prefix walks the pairs format (u32 count, count x (u32 key size,
 * u32 value size), then each key and value NUL-terminated) up to :path. The
 * host built the buffer, so it is trusted to be well formed.
 */
static int path_has_prefix(const uint8_t *buf, uint32_t size) {
	if (size < 4)
		return 0;
	uint32_t n = load32(buf);
	const uint8_t *sizes = buf + 4;
	const uint8_t *text = sizes + 8 * n;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t ks = load32(sizes + 8 * i), vs = load32(sizes + 8 * i + 4);
		if (ks == 5 && equal(text, ":path", 5))
			return vs >= sizeof prefix - 1 && equal(text + ks + 1, prefix, sizeof prefix - 1);
		text += ks + 1 + vs + 1;
	}
	return 0;
}

EXPORT("proxy_on_request_headers")
uint32_t proxy_on_request_headers(uint32_t id, uint32_t n, uint32_t eos) {
	uint8_t *buf = 0;
	uint32_t size = 0;
	arena_reset();
	if (proxy_get_header_map_pairs(MAP_REQUEST_HEADERS, &buf, &size) != 0)
		return ACTION_CONTINUE;
	if (!path_has_prefix(buf, size))
		return ACTION_CONTINUE;
	proxy_send_local_response(503, details, sizeof details - 1, 0, 0, 0, 0, -1);
	return ACTION_PAUSE;
}

/*
 * The C no-op reference guest: every callback the harness calls, each doing
 * nothing. Next to the Go no-op guest it shows how much of a request's cost
 * in the harness is the harness itself and how much a Go runtime adds.
 */
#include "proxy_wasm.h"

EXPORT("proxy_on_request_headers")
uint32_t proxy_on_request_headers(uint32_t id, uint32_t n, uint32_t eos) { return ACTION_CONTINUE; }

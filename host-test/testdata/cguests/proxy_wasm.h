/*
 * The few proxy-wasm ABI 0.2.1 declarations the C reference guests use.
 * No libc: the guests are built with -nostdlib, so nothing here may pull in
 * a function the linker would have to find elsewhere.
 */
#ifndef NEDRY_CGUESTS_PROXY_WASM_H
#define NEDRY_CGUESTS_PROXY_WASM_H

#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(name)))
#define IMPORT(name) __attribute__((import_module("env"), import_name(name)))

/* proxy_action_t and proxy_map_type_t values of the spec. */
enum { ACTION_CONTINUE = 0, ACTION_PAUSE = 1 };
enum { MAP_REQUEST_HEADERS = 0 };

IMPORT("proxy_get_header_map_pairs")
uint32_t proxy_get_header_map_pairs(uint32_t map_type, uint8_t **data, uint32_t *size);

IMPORT("proxy_send_local_response")
uint32_t proxy_send_local_response(uint32_t status, const char *details, uint32_t details_size,
                                   const uint8_t *body, uint32_t body_size,
                                   const uint8_t *headers, uint32_t headers_size, int32_t grpc_status);

/* arena_reset frees every block proxy_on_memory_allocate handed out. */
void arena_reset(void);

#endif

package abi

import (
	"context"

	"github.com/tetratelabs/wazero/api"
)

// Hostcalls Envoy provides but this harness does not emulate (shared
// queues, gRPC callouts, foreign functions, the 0.1.0
// proxy_get_configuration, proxy_get_status). They exist so that a module
// importing them links, as it would in Envoy; calling one fails loudly in
// strict mode instead of pretending to work, and answers Unimplemented in
// lenient mode.
func unsupported(name string, params int) hostFunc {
	return hostFunc{name, sig(params), one, func(ctx context.Context, _ api.Module, s []uint64) {
		vm := vmOf(ctx, name)
		vm.misuse(name, "not emulated by host-test")
		s[0] = uint64(StatusUnimplemented)
	}}
}

var unsupportedFuncs = []hostFunc{
	unsupported("proxy_register_shared_queue", 3),
	unsupported("proxy_resolve_shared_queue", 5),
	unsupported("proxy_dequeue_shared_queue", 3),
	unsupported("proxy_enqueue_shared_queue", 3),
	unsupported("proxy_grpc_call", 12),
	unsupported("proxy_grpc_stream", 9),
	unsupported("proxy_grpc_close", 1),
	unsupported("proxy_grpc_cancel", 1),
	unsupported("proxy_grpc_send", 4),
	unsupported("proxy_call_foreign_function", 6),
	unsupported("proxy_get_configuration", 2),
	unsupported("proxy_get_status", 3),
	{"pthread_equal", sig(2), one, func(ctx context.Context, _ api.Module, s []uint64) {
		vmOf(ctx, "pthread_equal")
		if s[0] == s[1] {
			s[0] = 1
		} else {
			s[0] = 0
		}
	}},
	{"emscripten_notify_memory_growth", sig(1), nil, func(ctx context.Context, _ api.Module, s []uint64) {
		vmOf(ctx, "emscripten_notify_memory_growth")
	}},
}

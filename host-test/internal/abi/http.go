package abi

import (
	"context"

	"github.com/tetratelabs/wazero/api"
)

// ProxyContinueStream is proxy_continue_stream (and proxy_continue_request /
// proxy_continue_response). The resume is deferred until the VM call returns,
// as Envoy does. On a root context (for example from proxy_on_tick without
// proxy_set_effective_context) Envoy answers Ok and resumes nothing; so does
// this host. Continuing a stream that is not paused in that direction is
// misuse.
// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_continue_stream
func (vm *VM) ProxyContinueStream(call string, t StreamType) Status {
	if t > StreamTypeMax {
		return StatusBadArgument
	}
	c := vm.active()
	if c == nil || c.IsRoot() {
		return StatusOK
	}
	if t != StreamRequest && t != StreamResponse {
		return StatusBadArgument
	}
	inRequest := c.Phase >= PhaseRequestHeaders && c.Phase <= PhaseRequestTrailers
	inResponse := c.Phase >= PhaseResponseHeaders && c.Phase <= PhaseResponseTrailers
	if !c.Paused || (t == StreamRequest && !inRequest) || (t == StreamResponse && !inResponse) {
		vm.misuse(call, "stream %d is not paused in the %s path", c.ID, [...]string{"request", "response"}[t])
		return StatusOK
	}
	c.Continue = true
	vm.markPending(c)
	return StatusOK
}

// ProxyCloseStream is proxy_close_stream: resets the stream once the VM call
// returns. On a root context it is a no-op answering Ok.
func (vm *VM) ProxyCloseStream(t StreamType) Status {
	if t > StreamTypeMax {
		return StatusBadArgument
	}
	c := vm.active()
	if c == nil || c.IsRoot() {
		return StatusOK
	}
	c.Close = true
	vm.markPending(c)
	return StatusOK
}

// ProxySendLocalResponse is proxy_send_local_response(status, details_data,
// details_size, body_data, body_size, headers_data, headers_size, grpc_status).
// The reply is applied when the VM call returns; the callback's result then
// counts as Stop (cpp-host's stopNextIteration).
// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_send_local_response
func (vm *VM) ProxySendLocalResponse(status, dp, ds, bp, bs, hp, hs, grpc uint32) Status {
	const call = "proxy_send_local_response"
	details, ok1 := vm.read(call, dp, ds)
	body, ok2 := vm.read(call, bp, bs)
	hdrs, ok3 := vm.read(call, hp, hs)
	if !ok1 || !ok2 || !ok3 {
		return StatusInvalidMemoryAccess
	}
	r := new(replyBlock)
	pairs, ok := decodePairs(hdrs, &vm.replyHeaders, r.headers[:0])
	if !ok {
		vm.misuse(call, "malformed header pairs of %d bytes (Envoy would drop them)", len(hdrs))
	}
	if len(pairs) == 0 {
		// A reply without headers has nil Headers however the guest encoded
		// it: the host hands this reply to the test's result as it is.
		pairs = nil
	}
	for _, p := range pairs {
		if p[0] == "" || !validHeaderBytes(p[0]) || !validHeaderBytes(p[1]) {
			vm.misuse(call, "invalid header bytes (empty key, NUL, CR or LF) in %q: %q", p[0], p[1])
			return StatusBadArgument
		}
	}
	c := vm.active()
	if c == nil || c.IsRoot() {
		vm.misuse(call, "no stream to answer")
		return StatusBadArgument
	}
	if c.Reply != nil {
		vm.misuse(call, "a local reply was already sent on stream %d", c.ID)
		return StatusOK
	}
	if c.Phase > PhaseResponseHeaders {
		vm.misuse(call, "response headers already went to the client (phase %s)", c.Phase)
		return StatusBadArgument
	}
	if status < 100 || status > 999 {
		vm.misuse(call, "status %d is not an HTTP status", status)
	}
	g := int32(grpc)
	if grpc > 16 {
		g = -1 // the SDKs pass -1 (or any out-of-range value) for a plain reply
	}
	// Body and pairs are copies out of guest memory that nothing else holds
	// (their strings may be shared with earlier replies, which is invisible:
	// strings are immutable); the host hands the reply to the test's result
	// without copying again.
	r.reply = LocalReply{Status: int(status), Body: append([]byte(nil), body...), Headers: pairs,
		Details: vm.replyDetails.of(details), GRPCStatus: g}
	c.Reply = &r.reply
	vm.markPending(c)
	vm.stopped = true
	return StatusOK
}

// replyBlock is a local reply with room for its first header pairs, so that
// a reply with few headers is one allocation. Nedry's carry the fault tag
// and the rule's headers, most often none or one.
type replyBlock struct {
	reply   LocalReply
	headers [2][2]string
}

// ProxySetEffectiveContext is proxy_set_effective_context: later hostcalls of
// this VM call act on that context, until the callback returns. Envoy
// answers BadArgument for an unknown id; strict mode fails.
func (vm *VM) ProxySetEffectiveContext(id uint32) Status {
	if vm.contexts[id] == nil {
		vm.misuse("proxy_set_effective_context", "unknown context id %d", id)
		return StatusBadArgument
	}
	vm.effective = id
	return StatusOK
}

// ProxyDone is proxy_done: a retiring root context whose proxy_on_done
// answered false says it is finished; it is deleted after the call returns.
// Any other context gets NotFound, as from cpp-host's WasmBase::done.
func (vm *VM) ProxyDone() Status {
	c := vm.active()
	if c == nil {
		return StatusNotFound
	}
	root := c.rootOf()
	if !root.awaitingDone || root.DoneCalled {
		return StatusNotFound
	}
	root.DoneCalled = true
	return StatusOK
}

var httpFuncs = []hostFunc{
	{"proxy_continue_stream", sig(1), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_continue_stream").ProxyContinueStream("proxy_continue_stream", StreamType(s[0])))
	}},
	{"proxy_continue_request", nil, one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_continue_request").ProxyContinueStream("proxy_continue_request", StreamRequest))
	}},
	{"proxy_continue_response", nil, one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_continue_response").ProxyContinueStream("proxy_continue_response", StreamResponse))
	}},
	{"proxy_close_stream", sig(1), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_close_stream").ProxyCloseStream(StreamType(s[0])))
	}},
	{"proxy_send_local_response", sig(8), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_send_local_response").ProxySendLocalResponse(u32(s[0]), u32(s[1]), u32(s[2]), u32(s[3]), u32(s[4]), u32(s[5]), u32(s[6]), u32(s[7])))
	}},
	{"proxy_set_effective_context", sig(1), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_set_effective_context").ProxySetEffectiveContext(u32(s[0])))
	}},
	{"proxy_done", nil, one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_done").ProxyDone())
	}},
	{"proxy_clear_route_cache", nil, one, func(ctx context.Context, _ api.Module, s []uint64) {
		vmOf(ctx, "proxy_clear_route_cache")
		s[0] = uint64(StatusOK)
	}},
}

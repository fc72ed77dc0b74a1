package abi

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// HTTP call map and buffer types (proxy_map_type / proxy_buffer_type).
const (
	MapHTTPCallResponseHeaders  MapType    = 6
	MapHTTPCallResponseTrailers MapType    = 7
	BufferHTTPCallResponseBody  BufferType = 4
)

// StatusBrokenConnection is the status proxy_get_status reports after a
// failed call in Envoy (WasmResult::BrokenConnection).
const StatusBrokenConnection Status = 11

// HTTPCall is one proxy_http_call in flight. It belongs to the root context
// of the context that made it, as in cpp-host (exports.cc http_call makes
// the call on contextOrEffectiveContext()->root_context()): the stream that
// was running when the guest made it has no part in it, so the call outlives
// the stream, and the response goes to proxy_on_http_call_response with the
// root's id. Envoy's Context destructor cancels the calls a context owns, so
// deleting the root (a retired configuration) cancels them.
type HTTPCall struct {
	Token    uint32
	Root     *Context
	Cluster  string
	Headers  [][2]string
	Body     []byte
	Trailers [][2]string
	// Timeout is the call's timeout; 0 means none (Envoy sets no timeout
	// for timeout_milliseconds 0).
	Timeout time.Duration
}

// HTTPCallResponse is what the upstream answered a call. Failed is Envoy's
// onHttpCallFailure (a reset): the callback then sees no headers, body or
// trailers.
type HTTPCallResponse struct {
	Headers  [][2]string // :status first
	Body     []byte
	Trailers [][2]string
	Failed   bool
}

// ProxyHTTPCall is proxy_http_call(upstream_data, upstream_size,
// headers_data, headers_size, body_data, body_size, trailers_data,
// trailers_size, timeout_milliseconds, return_token), as Envoy's
// Context::httpCall: a timeout that is negative as an int32 is BadArgument;
// a cluster the host does not know is BadArgument; headers without :path,
// :method or :authority (Envoy's Host) are BadArgument. On Ok the token is
// written and the host is told (Env.HTTPCall) once the hostcall's checks
// passed.
// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_http_call
func (vm *VM) ProxyHTTPCall(up, us, hp, hs, bp, bs, tp, ts, timeoutMS, rt uint32) Status {
	const call = "proxy_http_call"
	c := vm.active()
	if c == nil {
		vm.misuse(call, "no context")
		return StatusBadArgument
	}
	root := c.rootOf()
	cluster, ok1 := vm.read(call, up, us)
	body, ok2 := vm.read(call, bp, bs)
	hb, ok3 := vm.read(call, hp, hs)
	tb, ok4 := vm.read(call, tp, ts)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return StatusInvalidMemoryAccess
	}
	headers, ok := decodePairs(hb, nil, nil)
	if !ok {
		vm.misuse(call, "malformed header pairs buffer of %d bytes", len(hb))
		return StatusBadArgument
	}
	trailers, ok := decodePairs(tb, nil, nil)
	if !ok {
		vm.misuse(call, "malformed trailer pairs buffer of %d bytes", len(tb))
		return StatusBadArgument
	}
	// cpp-host writes a token first to check the memory before the call.
	if !vm.writeU32(call, rt, 0) {
		return StatusInvalidMemoryAccess
	}
	if int32(timeoutMS) < 0 {
		return StatusBadArgument
	}
	if vm.env.Cluster == nil || !vm.env.Cluster(string(cluster)) {
		return StatusBadArgument
	}
	for i := range headers {
		headers[i][0] = strings.ToLower(headers[i][0])
	}
	for i := range trailers {
		trailers[i][0] = strings.ToLower(trailers[i][0])
	}
	m := HeaderMap{Pairs: headers}
	for _, k := range [...]string{":path", ":method", ":authority"} {
		if _, ok := m.Get(k); !ok {
			return StatusBadArgument
		}
	}
	if len(body) > 0 {
		// Envoy sets content-length to the body it sends.
		m.Replace("content-length", strconv.Itoa(len(body)))
	}
	token := vm.nextHTTPCallToken()
	hc := &HTTPCall{Token: token, Root: root, Cluster: string(cluster), Headers: m.Pairs,
		Body: append([]byte(nil), body...), Trailers: trailers,
		Timeout: time.Duration(timeoutMS) * time.Millisecond}
	if vm.httpCalls == nil {
		vm.httpCalls = map[uint32]*HTTPCall{}
	}
	vm.httpCalls[token] = hc
	if !vm.writeU32(call, rt, token) {
		delete(vm.httpCalls, token)
		return StatusInvalidMemoryAccess
	}
	if vm.env.HTTPCall != nil {
		vm.env.HTTPCall(vm, hc)
	}
	return StatusOK
}

// nextHTTPCallToken is Envoy's Wasm::nextHttpCallId: one counter per VM,
// never 0, never a token still in flight.
func (vm *VM) nextHTTPCallToken() uint32 {
	for {
		vm.httpToken++
		if vm.httpToken != 0 && vm.httpCalls[vm.httpToken] == nil {
			return vm.httpToken
		}
	}
}

// InFlight reports whether hc is still waiting for its response (neither
// answered nor cancelled).
func (vm *VM) InFlight(hc *HTTPCall) bool { return vm.httpCalls[hc.Token] == hc }

// HTTPCallsInFlight is the number of calls waiting for their response.
func (vm *VM) HTTPCallsInFlight() int { return len(vm.httpCalls) }

// cancelHTTPCalls drops the calls root owns, as Envoy's Context destructor
// cancels its outstanding requests: their responses never reach the guest.
func (vm *VM) cancelHTTPCalls(root *Context) {
	for t, hc := range vm.httpCalls {
		if hc.Root == root {
			delete(vm.httpCalls, t)
		}
	}
}

// OnHTTPCallResponse delivers the response of a call still in flight: the
// response is readable (map types 6 and 7, buffer type 4) during
// proxy_on_http_call_response(root_id, token, headers, body_size,
// trailers), whose counts are entries, bytes and entries as Envoy passes
// them; a failed call passes 0, 0, 0. A cancelled call, or a guest without
// the export, gets nothing.
func (vm *VM) OnHTTPCallResponse(hc *HTTPCall, resp *HTTPCallResponse) error {
	if !vm.InFlight(hc) {
		return nil
	}
	delete(vm.httpCalls, hc.Token)
	if vm.Failed != nil || vm.fn.httpCallResponse == nil {
		return nil
	}
	root := hc.Root
	var nh, nb, nt int
	if !resp.Failed {
		nh, nb, nt = len(resp.Headers), len(resp.Body), len(resp.Trailers)
		root.callResponse = resp
	}
	_, err := vm.call(root, "proxy_on_http_call_response", vm.fn.httpCallResponse,
		uint64(root.ID), uint64(hc.Token), uint64(nh), uint64(nb), uint64(nt))
	root.callResponse = nil
	return err
}

// httpCallMap resolves map types 6 and 7: the response of the call whose
// callback is running, through the root of the active context (Envoy's
// rootContext()->http_call_response_); read-only.
func (vm *VM) httpCallMap(t MapType, write bool) (*HeaderMap, Status) {
	c := vm.active()
	if c == nil || write {
		return nil, StatusBadArgument
	}
	r := c.rootOf().callResponse
	if r == nil {
		return nil, StatusBadArgument
	}
	if t == MapHTTPCallResponseHeaders {
		return &HeaderMap{Pairs: r.Headers}, StatusOK
	}
	return &HeaderMap{Pairs: r.Trailers}, StatusOK
}

func (vm *VM) httpCallBody() *[]byte {
	c := vm.active()
	if c == nil {
		return nil
	}
	if r := c.rootOf().callResponse; r != nil {
		return &r.Body
	}
	return nil
}

var httpCallFuncs = []hostFunc{
	{"proxy_http_call", sig(10), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_http_call").ProxyHTTPCall(u32(s[0]), u32(s[1]), u32(s[2]),
			u32(s[3]), u32(s[4]), u32(s[5]), u32(s[6]), u32(s[7]), u32(s[8]), u32(s[9])))
	}},
}

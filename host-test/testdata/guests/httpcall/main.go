// Command httpcall drives proxy_http_call and proxy_on_http_call_response
// from request headers. x-call: <cluster> makes a call with the request's
// :method, :path and :authority (x-call-omit: <name> leaves one out),
// x-call-body as its body, x-call-trailer: <k>=<v> as its trailers and
// x-call-timeout (ms) as its timeout; the status and token go upstream as
// x-call-status and x-call-token. x-call-from: tick makes the call from the
// root context on the next tick instead (status logged). x-call-wait pauses
// the stream until the response, which then continues it. x-call-probe
// reads map type 6 and buffer type 4 outside any call's callback and adds
// the statuses as x-probe-map and x-probe-buffer.
//
// Every response is logged as "response token=T root=R headers=H body=B
// trailers=T status=S bodytext=... trailer=... effective=E": the counts
// passed to the callback, what the response maps and buffer hold, and what
// proxy_set_effective_context answers for the waiting stream that made the
// call ("-" when it did not wait: strict mode fails a guest that names a
// context that is gone).
package main

import (
	"github.com/nedry-chaos/nedry/host-test/testdata/guestabi"
)

//go:wasmimport env proxy_http_call
func proxyHTTPCall(up, us, hp, hs, bp, bs, tp, ts, timeout uint32, token *uint32) uint32

type callSpec struct {
	cluster, body     string
	headers, trailers [][2]string
	timeout, stream   uint32
	wait              bool
}

var (
	root     uint32
	deferred []callSpec
	byToken  = map[uint32]callSpec{}
)

//go:wasmexport proxy_on_context_create
func onContextCreate(id, parent uint32) {
	if parent == 0 {
		root = id
	}
}

//go:wasmexport proxy_on_vm_start
func onVMStart(id, n uint32) uint32 { return 1 }

//go:wasmexport proxy_on_configure
func onConfigure(id, n uint32) uint32 { return 1 }

func pairs(p [][2]string) (uint32, uint32) {
	if len(p) == 0 {
		return 0, 0
	}
	var b []byte
	le := func(n int) { b = append(b, byte(n), byte(n>>8), byte(n>>16), byte(n>>24)) }
	le(len(p))
	for _, kv := range p {
		le(len(kv[0]))
		le(len(kv[1]))
	}
	for _, kv := range p {
		b = append(b, kv[0]...)
		b = append(b, 0)
		b = append(b, kv[1]...)
		b = append(b, 0)
	}
	return guestabi.Ptr(string(b))
}

func call(s callSpec) (status, token uint32) {
	up, us := guestabi.Ptr(s.cluster)
	hp, hs := pairs(s.headers)
	bp, bs := guestabi.Ptr(s.body)
	tp, ts := pairs(s.trailers)
	status = proxyHTTPCall(up, us, hp, hs, bp, bs, tp, ts, s.timeout, &token)
	if status == 0 {
		byToken[token] = s
	}
	return status, token
}

func atoi(s string) uint32 {
	var n uint32
	for i := 0; i < len(s); i++ {
		n = n*10 + uint32(s[i]-'0')
	}
	return n
}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	if _, st := guestabi.GetHeader(0, "x-call-probe"); st == 0 {
		// No call response exists outside its callback.
		_, mst := guestabi.GetHeader(6, ":status")
		var bp, bs uint32
		guestabi.AddHeader(0, "x-probe-map", guestabi.Itoa(int64(mst)))
		guestabi.AddHeader(0, "x-probe-buffer", guestabi.Itoa(int64(guestabi.ProxyGetBufferBytes(4, 0, 10, &bp, &bs))))
	}
	cluster, st := guestabi.GetHeader(0, "x-call")
	if st != 0 {
		return 0
	}
	s := callSpec{cluster: cluster, stream: id}
	omit, _ := guestabi.GetHeader(0, "x-call-omit")
	for _, k := range []string{":method", ":path", ":authority"} {
		if v, _ := guestabi.GetHeader(0, k); k != omit {
			s.headers = append(s.headers, [2]string{k, v})
		}
	}
	s.headers = append(s.headers, [2]string{"x-copy", "1"})
	s.body, _ = guestabi.GetHeader(0, "x-call-body")
	if t, st := guestabi.GetHeader(0, "x-call-trailer"); st == 0 {
		for i := 0; i < len(t); i++ {
			if t[i] == '=' {
				s.trailers = [][2]string{{t[:i], t[i+1:]}}
			}
		}
	}
	to, _ := guestabi.GetHeader(0, "x-call-timeout")
	s.timeout = atoi(to)
	_, wst := guestabi.GetHeader(0, "x-call-wait")
	s.wait = wst == 0
	if from, _ := guestabi.GetHeader(0, "x-call-from"); from == "tick" {
		deferred = append(deferred, s)
		guestabi.ProxySetTickPeriodMilliseconds(10)
		return 0
	}
	status, token := call(s)
	guestabi.AddHeader(0, "x-call-status", guestabi.Itoa(int64(status)))
	guestabi.AddHeader(0, "x-call-token", guestabi.Itoa(int64(token)))
	if s.wait && status == 0 {
		return 1
	}
	return 0
}

//go:wasmexport proxy_on_tick
func onTick(id uint32) {
	guestabi.Held = guestabi.Held[:0]
	for _, s := range deferred {
		status, token := call(s)
		guestabi.Logf(2, "tick call status="+guestabi.Itoa(int64(status))+" token="+guestabi.Itoa(int64(token)))
	}
	deferred = deferred[:0]
	guestabi.ProxySetTickPeriodMilliseconds(0)
}

//go:wasmexport proxy_on_http_call_response
func onHTTPCallResponse(id, token, headers, bodySize, trailers uint32) {
	guestabi.Held = guestabi.Held[:0]
	s := byToken[token]
	delete(byToken, token)
	status, _ := guestabi.GetHeader(6, ":status")
	var bp, bs uint32
	guestabi.ProxyGetBufferBytes(4, 0, bodySize, &bp, &bs)
	var trailer string
	var tp, ts uint32
	if guestabi.ProxyGetHeaderMapPairs(7, &tp, &ts) == 0 && ts > 0 {
		trailer = guestabi.BytesAt(tp, ts)
	}
	eff := "-"
	if s.wait {
		eff = guestabi.Itoa(int64(guestabi.ProxySetEffectiveContext(s.stream)))
	}
	msg := "response token=" + guestabi.Itoa(int64(token)) + " root=" + guestabi.Itoa(int64(id)) +
		" headers=" + guestabi.Itoa(int64(headers)) + " body=" + guestabi.Itoa(int64(bodySize)) +
		" trailers=" + guestabi.Itoa(int64(trailers)) + " status=" + status +
		" bodytext=" + guestabi.BytesAt(bp, bs) + " trailer=" + guestabi.Itoa(int64(len(trailer))) +
		" effective=" + eff
	guestabi.Logf(2, msg)
	if eff == "0" {
		guestabi.ProxyContinueStream(0)
	}
}

func main() {}

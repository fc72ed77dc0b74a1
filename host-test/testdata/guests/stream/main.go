// Command stream exercises stream control: pause and resume on a tick
// (proxy_set_tick_period_milliseconds, proxy_set_effective_context,
// proxy_continue_stream), local replies, proxy_close_stream, and the
// retirement of a root context (proxy_on_done, proxy_done). Request headers
// choose the behaviour:
//
//	x-delay-ms: N      pause, resume on the first tick at least N ms later
//	x-reply: plain|grpc  proxy_send_local_response in proxy_on_request_headers
//	x-reply: grpc-raw  a gRPC reply whose body has bytes a header cannot hold
//	x-reply-later: 1   pause, then answer locally from the tick
//	x-close: now|later proxy_close_stream now or from the tick
//	x-bad-continue: 1  proxy_continue_stream on a stream that is not paused
//	x-hold: 1          pause; every tick makes it the effective context and
//	                   returns, leaving it paused (a client reset ends it)
//	x-mark: 1          add request header x-marked (acts on the current or
//	                   effective context)
//	x-bad-effective: 1 proxy_set_effective_context with an unknown id; the
//	                   status goes upstream in x-effective-status
//
// After a local reply in proxy_on_request_headers the guest reads a request
// header and logs the status ("after reply: N"); proxy_on_response_headers
// logs "nested" when it runs inside another callback of the stream.
//
// The plugin configuration "release-all" makes proxy_on_configure continue
// every stream paused under any root, as a kill switch does; "no-effective"
// makes the tick continue without proxy_set_effective_context (Envoy: Ok,
// nothing resumes); "slow-done" makes a retiring root answer proxy_on_done
// with false and call proxy_done from its next tick.
package main

import "github.com/nedry-chaos/nedry/host-test/testdata/guestabi"

type pending struct {
	id    uint32
	due   uint64
	reply bool
	close bool
	hold  bool
}

var (
	roots    = map[uint32]string{} // root id -> configuration
	parents  = map[uint32]uint32{}
	waiting  = map[uint32][]pending{} // root id -> paused streams
	retiring = map[uint32]bool{}
	// inRequest is set while proxy_on_request_headers runs.
	inRequest bool
)

func now() uint64 {
	var t uint64
	guestabi.ProxyGetCurrentTimeNanoseconds(&t)
	return t
}

func atoi(s string) uint64 {
	var v uint64
	for _, c := range s {
		v = v*10 + uint64(c-'0')
	}
	return v
}

//go:wasmexport proxy_on_context_create
func onContextCreate(id, parent uint32) {
	if parent != 0 {
		parents[id] = parent
	}
}

//go:wasmexport proxy_on_configure
func onConfigure(root, size uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	var p, s uint32
	guestabi.ProxyGetBufferBytes(7, 0, size, &p, &s)
	roots[root] = guestabi.BytesAt(p, s)
	if roots[root] == "release-all" {
		for r, ps := range waiting {
			for _, p := range ps {
				guestabi.ProxySetEffectiveContext(p.id)
				guestabi.ProxyContinueStream(0)
			}
			delete(waiting, r)
		}
	}
	return 1
}

func reply(kind string) {
	dp, ds := guestabi.Ptr("test_reply")
	body := "denied"
	if kind == "grpc-raw" {
		body = "no\nway\x00 100%"
	}
	bp, bs := guestabi.Ptr(body)
	var grpc uint32 = 0xffffffff // the SDKs pass -1 for a plain reply
	status := uint32(403)
	if kind == "grpc" || kind == "grpc-raw" {
		grpc = 7
	}
	// One extra header in the pairs format.
	hdr := []byte{1, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0}
	hdr = append(hdr, "x-extra\x001\x00"...)
	guestabi.Held = append(guestabi.Held, hdr)
	hp, hs := guestabi.Ptr(string(hdr))
	guestabi.ProxySendLocalResponse(status, dp, ds, bp, bs, hp, hs, grpc)
}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	root := parents[id]
	inRequest = true
	defer func() { inRequest = false }()
	if v, st := guestabi.GetHeader(0, "x-reply"); st == 0 {
		reply(v)
		// Envoy applies the reply once this callback returns: the request
		// headers are still there, and no other callback ran meanwhile.
		_, st := guestabi.GetHeader(0, ":path")
		guestabi.Logf(2, "after reply: "+guestabi.Itoa(int64(st)))
		return 1
	}
	if _, st := guestabi.GetHeader(0, "x-bad-effective"); st == 0 {
		st := guestabi.ProxySetEffectiveContext(0x7fffffff)
		guestabi.AddHeader(0, "x-effective-status", guestabi.Itoa(int64(st)))
	}
	if _, st := guestabi.GetHeader(0, "x-mark"); st == 0 {
		guestabi.AddHeader(0, "x-marked", "1")
	}
	if _, st := guestabi.GetHeader(0, "x-hold"); st == 0 {
		waiting[root] = append(waiting[root], pending{id: id, hold: true})
		guestabi.ProxySetTickPeriodMilliseconds(10)
		return 1
	}
	if v, st := guestabi.GetHeader(0, "x-close"); st == 0 {
		if v == "now" {
			guestabi.ProxyCloseStream(0)
			return 1
		}
		waiting[root] = append(waiting[root], pending{id: id, due: now(), close: true})
		guestabi.ProxySetTickPeriodMilliseconds(10)
		return 1
	}
	if _, st := guestabi.GetHeader(0, "x-bad-continue"); st == 0 {
		guestabi.ProxyContinueStream(0)
		return 0
	}
	if _, st := guestabi.GetHeader(0, "x-reply-later"); st == 0 {
		waiting[root] = append(waiting[root], pending{id: id, due: now(), reply: true})
		guestabi.ProxySetTickPeriodMilliseconds(10)
		return 1
	}
	if v, st := guestabi.GetHeader(0, "x-delay-ms"); st == 0 {
		waiting[root] = append(waiting[root], pending{id: id, due: now() + atoi(v)*1_000_000})
		guestabi.ProxySetTickPeriodMilliseconds(10)
		return 1
	}
	return 0
}

//go:wasmexport proxy_on_response_headers
func onResponseHeaders(id, n, eos uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	if inRequest {
		guestabi.Logf(2, "nested")
	}
	status, _ := guestabi.GetHeader(2, ":status")
	guestabi.AddHeader(2, "x-on-response", status)
	return 0
}

//go:wasmexport proxy_on_tick
func onTick(root uint32) {
	guestabi.Held = guestabi.Held[:0]
	if retiring[root] {
		guestabi.ProxyDone()
		return
	}
	t := now()
	keep := waiting[root][:0]
	for _, p := range waiting[root] {
		if p.due > t {
			keep = append(keep, p)
			continue
		}
		if roots[root] == "no-effective" {
			guestabi.ProxyContinueStream(0) // acts on the root context: Ok, resumes nothing
			keep = append(keep, p)
			continue
		}
		guestabi.ProxySetEffectiveContext(p.id)
		switch {
		case p.hold:
			keep = append(keep, p)
		case p.reply:
			reply("plain")
		case p.close:
			guestabi.ProxyCloseStream(0)
		default:
			guestabi.AddHeader(0, "x-resumed", "1")
			guestabi.ProxyContinueStream(0)
		}
	}
	waiting[root] = keep
	if len(keep) == 0 && roots[root] != "no-effective" {
		guestabi.ProxySetTickPeriodMilliseconds(0)
	}
}

//go:wasmexport proxy_on_done
func onDone(id uint32) uint32 {
	if _, ok := roots[id]; ok && roots[id] == "slow-done" {
		retiring[id] = true
		guestabi.ProxySetTickPeriodMilliseconds(10)
		return 0
	}
	return 1
}

//go:wasmexport proxy_on_delete
func onDelete(id uint32) {
	if _, ok := roots[id]; ok {
		guestabi.Logf(2, "root deleted "+guestabi.Itoa(int64(id)))
		delete(roots, id)
	}
	// A stream reset while paused must never be resumed: forget it.
	if root, ok := parents[id]; ok {
		keep := waiting[root][:0]
		for _, p := range waiting[root] {
			if p.id != id {
				keep = append(keep, p)
			}
		}
		waiting[root] = keep
	}
	delete(parents, id)
}

func main() {}

// Command stream exercises stream control: pause and resume on a tick
// (proxy_set_tick_period_milliseconds, proxy_set_effective_context,
// proxy_continue_stream), local replies, proxy_close_stream, and the
// retirement of a root context (proxy_on_done, proxy_done). Request headers
// choose the behaviour:
//
//	x-delay-ms: N      pause, resume on the first tick at least N ms later
//	x-reply: plain|grpc  proxy_send_local_response in proxy_on_request_headers
//	x-reply-later: 1   pause, then answer locally from the tick
//	x-close: now|later proxy_close_stream now or from the tick
//	x-bad-continue: 1  proxy_continue_stream on a stream that is not paused
//
// The plugin configuration "no-effective" makes the tick continue without
// proxy_set_effective_context (Envoy: Ok, nothing resumes); "slow-done"
// makes a retiring root answer proxy_on_done with false and call proxy_done
// from its next tick.
package main

type pending struct {
	id    uint32
	due   uint64
	reply bool
	close bool
}

var (
	roots    = map[uint32]string{} // root id -> configuration
	parents  = map[uint32]uint32{}
	waiting  = map[uint32][]pending{} // root id -> paused streams
	retiring = map[uint32]bool{}
)

func now() uint64 {
	var t uint64
	proxyGetCurrentTimeNanoseconds(&t)
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
	held = held[:0]
	var p, s uint32
	proxyGetBufferBytes(7, 0, size, &p, &s)
	roots[root] = bytesAt(p, s)
	return 1
}

func reply(kind string) {
	dp, ds := ptr("test_reply")
	bp, bs := ptr("denied")
	var grpc uint32 = 0xffffffff // the SDKs pass -1 for a plain reply
	status := uint32(403)
	if kind == "grpc" {
		grpc = 7
	}
	// One extra header in the pairs format.
	hdr := []byte{1, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0}
	hdr = append(hdr, "x-extra\x001\x00"...)
	held = append(held, hdr)
	hp, hs := ptr(string(hdr))
	proxySendLocalResponse(status, dp, ds, bp, bs, hp, hs, grpc)
}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	held = held[:0]
	root := parents[id]
	if v, st := getHeader(0, "x-reply"); st == 0 {
		reply(v)
		return 1
	}
	if v, st := getHeader(0, "x-close"); st == 0 {
		if v == "now" {
			proxyCloseStream(0)
			return 1
		}
		waiting[root] = append(waiting[root], pending{id: id, due: now(), close: true})
		proxySetTickPeriodMilliseconds(10)
		return 1
	}
	if _, st := getHeader(0, "x-bad-continue"); st == 0 {
		proxyContinueStream(0)
		return 0
	}
	if _, st := getHeader(0, "x-reply-later"); st == 0 {
		waiting[root] = append(waiting[root], pending{id: id, due: now(), reply: true})
		proxySetTickPeriodMilliseconds(10)
		return 1
	}
	if v, st := getHeader(0, "x-delay-ms"); st == 0 {
		waiting[root] = append(waiting[root], pending{id: id, due: now() + atoi(v)*1_000_000})
		proxySetTickPeriodMilliseconds(10)
		return 1
	}
	return 0
}

//go:wasmexport proxy_on_response_headers
func onResponseHeaders(id, n, eos uint32) uint32 {
	held = held[:0]
	status, _ := getHeader(2, ":status")
	addHeader(2, "x-on-response", status)
	return 0
}

//go:wasmexport proxy_on_tick
func onTick(root uint32) {
	held = held[:0]
	if retiring[root] {
		proxyDone()
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
			proxyContinueStream(0) // acts on the root context: Ok, resumes nothing
			keep = append(keep, p)
			continue
		}
		proxySetEffectiveContext(p.id)
		switch {
		case p.reply:
			reply("plain")
		case p.close:
			proxyCloseStream(0)
		default:
			addHeader(0, "x-resumed", "1")
			proxyContinueStream(0)
		}
	}
	waiting[root] = keep
	if len(keep) == 0 && roots[root] != "no-effective" {
		proxySetTickPeriodMilliseconds(0)
	}
}

//go:wasmexport proxy_on_done
func onDone(id uint32) uint32 {
	if _, ok := roots[id]; ok && roots[id] == "slow-done" {
		retiring[id] = true
		proxySetTickPeriodMilliseconds(10)
		return 0
	}
	return 1
}

//go:wasmexport proxy_on_delete
func onDelete(id uint32) {
	if _, ok := roots[id]; ok {
		logf(2, "root deleted "+itoa(int64(id)))
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

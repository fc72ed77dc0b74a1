package plugin

import (
	"time"

	"github.com/nedry-chaos/nedry/filter/internal/abi"
	"github.com/nedry-chaos/nedry/filter/internal/config"
	"github.com/nedry-chaos/nedry/filter/internal/fault"
)

// stream is an HTTP stream context. It owns its decision and pause state.
type stream struct {
	id   uint32
	root *root
	l    *loaded        // nil when the root had no configuration
	cfg  *config.Config // l.cfg

	// The request headers as they arrived, fetched once with
	// proxy_get_header_map_pairs: they serve the matcher, header control
	// and the removal of x-nedry-* headers without another host call.
	// Valid during OnRequestHeaders only (a reused buffer).
	headers abi.Pairs
	// What the matcher reads most, taken from headers in one pass (first
	// values, as Get returns them); transient like headers.
	path, method, authority string
	control                 bool // some x-nedry-* request header is present
	grpc                    bool // content-type starts with application/grpc
	// Properties, fetched on first use; transient like headers.
	routeName, virtualHost, cluster string
	fetched                         uint8 // bits: 1 route, 2 vhost, 4 cluster

	plan    plan
	applied config.FaultSet // faults actually injected, for the tag
	state   string          // filter state value last set (filterstate.go)
	// A control request of a guarded rule (guard.go): watched from sentAt
	// (monotonic) to its response headers, or its trailers for gRPC.
	watch, watchTrailers, slowSeen bool
	sentAt                         int64

	body      [2]bodyState // body corruption by direction (body.go)
	dup       *dupJob      // the request's copy while it passes (duplicate.go)
	reqLength bool         // the request came with a content-length
	reqEnd    bool         // the request has no body (transient, like headers)
	respEnd   bool         // the response has no body

	fault.Slot        // place in root.queue while a delay holds the stream
	localReply   bool // Nedry answered; response callbacks see its reply
	holdResponse bool // a response-phase delay waits for response headers
	phase        config.Phase
	panicAt      uint8  // see selftest.go
	stopsAt      uint32 // Plugin.stops when the stream started
}

// plan is what the stream will inject, from a rule's decision or from
// request-control headers. A plan is only ever set with its stats, so a nil
// stats means the plan is zero (stream.reset relies on it).
type plan struct {
	stats       *ruleStats
	faults      config.FaultSet
	delay       time.Duration
	phase       config.Phase
	abortStatus uint32
	grpcStatus  int32
	body        []byte
	headers     [][2]string // extra local-reply headers
	reqOps      []config.HeaderOp
	respOps     []config.HeaderOp
	respBody    *config.BodyCorrupt // armed at response headers (body.go)
}

// OnRequestHeaders removes the x-nedry-* headers, picks the rule, draws its
// faults and starts carrying them out.
func (s *stream) OnRequestHeaders(_ int, eos bool) abi.Action {
	// The header view lives in a buffer the next request reuses: nothing
	// may read it after this callback, even one that panicked.
	defer s.dropHeaders()
	s.reqEnd = eos
	a := s.onRequestHeaders()
	s.quietIfSettled()
	return a
}

// quietIfSettled tells the ABI layer to answer the stream's remaining
// callbacks itself when none of them has work left (see abi.Quiet): most
// streams match no rule or draw no fault. When the layer holds no reference
// to the stream (it went quiet in its first callback), the context is
// recycled at once: callers must not use s afterwards (OnRequestHeaders'
// deferred dropHeaders only clears fields that are already clear).
//
// A control request of a guarded rule goes quiet watched (watchQuietly),
// and its context is recycled too; when it cannot, it stays awake to its
// response headers.
func (s *stream) quietIfSettled() {
	if !s.Queued() && !s.holdResponse && s.panicAt != panicResponse && !s.needsResponse() && s.body[bodyRequest].cfg == nil && s.dup == nil {
		if s.watch {
			if s.watchQuietly() {
				s.root.plugin.recycle(s)
			}
			return
		}
		if abi.Quiet(s.id) {
			s.root.plugin.recycle(s)
		}
	}
}

// needsResponse reports whether OnResponseHeaders has work on this stream:
// response corruption or the tag on an upstream response.
func (s *stream) needsResponse() bool {
	if s.localReply || s.cfg == nil {
		return false
	}
	p := &s.plan
	return (p.faults&config.FaultCorrupt != 0 && (len(p.respOps) > 0 || p.respBody != nil)) ||
		(s.cfg.ResponseHeader != "" && s.applied != 0)
}

// reset clears every field for the stream's reuse (see Plugin.recycle). It
// clears field by field, and the plan only when one was made, because in Go
// on wasm `*s = stream{}` on this pointer-laden struct cost about 250 ns per
// request (guest time per callback, measured), more than the rest of the
// delete. TestStreamReset fails when a field is added and cleared neither
// here nor by dropHeaders.
func (s *stream) reset() {
	// The transient request view needs nothing: OnRequestHeaders drops it
	// when it returns, even after a panic, and nothing else sets it.
	s.id, s.root, s.l, s.cfg = 0, nil, nil, nil
	s.control, s.grpc = false, false
	if p := &s.plan; p.stats != nil {
		p.stats, p.faults, p.delay, p.phase = nil, 0, 0, 0
		p.abortStatus, p.grpcStatus, p.body, p.headers = 0, 0, nil, nil
		p.reqOps, p.respOps, p.respBody = nil, nil, nil
	}
	if s.body[bodyRequest].cfg != nil || s.body[bodyResponse].cfg != nil {
		// onBody clears a state whole when it finishes, so a state without
		// cfg is already zero.
		s.body = [2]bodyState{}
	}
	s.reqLength, s.respEnd, s.dup = false, false, nil
	s.applied, s.state = 0, ""
	s.watch, s.watchTrailers, s.slowSeen, s.sentAt = false, false, false, 0
	s.Slot = fault.Slot{}
	s.localReply, s.holdResponse = false, false
	s.phase, s.panicAt, s.stopsAt = 0, 0, 0
}

// dropHeaders forgets every transient view of the request (headers and
// properties live in memory the next callback reuses).
func (s *stream) dropHeaders() {
	s.headers = abi.Pairs{}
	s.path, s.method, s.authority = "", "", ""
	s.routeName, s.virtualHost, s.cluster, s.fetched = "", "", "", 0
	s.reqEnd = false
}

func (s *stream) OnRequestBody(size int, eos bool) abi.Action {
	if s.dup == nil {
		return s.onBody(bodyRequest, size, eos)
	}
	if s.stopped() {
		s.dropStoppedCopy()
		return s.onBody(bodyRequest, size, eos)
	}
	s.copyBody(size, eos) // before body corruption rewrites the buffer
	a := s.onBody(bodyRequest, size, eos)
	s.afterBody(a, size)
	if eos {
		s.quietIfSettled()
	}
	return a
}

// OnRequestTrailers completes a duplicated request that ends with
// trailers: its copies carry none.
func (s *stream) OnRequestTrailers(int) abi.Action {
	switch {
	case s.dup == nil:
	case s.stopped():
		s.dropStoppedCopy()
	default:
		s.finishCopy()
	}
	return abi.ActionContinue
}

// OnResponseHeaders holds a response-phase delay, corrupts upstream
// responses and tags responses Nedry touched. Envoy calls it for Nedry's own
// local replies too; those already carry their tag and are left alone.
func (s *stream) OnResponseHeaders(_ int, eos bool) abi.Action {
	if s.localReply || s.cfg == nil {
		return abi.ActionContinue
	}
	s.respEnd = eos
	if s.panicAt == panicResponse {
		panic(selfTestPanic{})
	}
	if s.watch {
		return s.observeControl()
	}
	if s.stopped() {
		// The kill switch came while the stream was upstream.
		s.plan.faults, s.holdResponse = 0, false
		s.noteApplied()
	}
	if s.holdResponse {
		s.holdResponse = false
		if s.hold() {
			return abi.ActionPause
		}
		if s.watch {
			// max_active_faults dropped the delay, the one fault drawn
			// (hold's noteState started the watch): a control request
			// after all, counted now.
			return s.observeControl()
		}
	}
	s.applyResponse()
	return abi.ActionContinue
}

// observeControl counts control request s at its response headers. A
// control request has nothing else to do: unless its gRPC status is still
// to come in the trailers, the rest of its callbacks, OnDelete included,
// stay out of plugin code, and the context is recycled now.
func (s *stream) observeControl() abi.Action {
	s.observeResponse()
	if !s.watchTrailers {
		abi.Release(s.id)
		s.root.plugin.recycle(s)
	}
	return abi.ActionContinue
}

func (s *stream) OnResponseBody(size int, eos bool) abi.Action {
	return s.onBody(bodyResponse, size, eos)
}
func (s *stream) OnResponseTrailers(int) abi.Action {
	if s.watchTrailers {
		s.observeTrailers()
	}
	return abi.ActionContinue
}

// OnLog, OnDone and OnDelete each drop a stream that ends while paused
// (client reset, timeout): it leaves the queue and is never resumed. Envoy
// calls all three, in that order; some hosts (the proxy-wasm-go-sdk
// emulator) only call proxy_on_log, so the first one does the work.
func (s *stream) OnLog() {
	if s.watchTrailers {
		s.finishWatch(false) // a gRPC response that ended without a status
	}
	s.root.dequeue(s)
}

func (s *stream) OnDone() { s.root.dequeue(s) }

// OnDelete is the last callback of a stream: its context is recycled. A
// request that ended before it was complete (a client reset) is not
// duplicated.
func (s *stream) OnDelete() {
	s.root.dequeue(s)
	if s.dup != nil {
		s.root.plugin.freeJob(s.dup)
	}
	s.root.plugin.recycle(s)
}

package hosttest

import (
	"context"
	"math/bits"
	"strings"
	"time"

	"github.com/nedry-chaos/nedry/host-test/internal/abi"
)

type stage int

const (
	stageRequestHeaders stage = iota
	stageRequestBody
	stageRequestTrailers
	stageUpstream
	stageWaitUpstream
	stageResponseHeaders
	stageResponseBody
	stageResponseTrailers
	stageEnd
	stageDone
)

// Stream is one HTTP exchange in progress.
type Stream struct {
	h   *Host
	w   *worker
	c   *abi.Context // nil when the stream bypasses the VM (fail open)
	req Request
	id  uint32

	stage           stage
	local           bool             // answering with a local reply
	localState      *localReplyState // the local reply's records, set with local
	paused          bool
	pausedAt        time.Time
	upstream        *Response
	upstreamHeaders [][2]string // request headers of a stream that bypasses the VM
	reqBody         bodyFlow    // the request body's chunks (stream_body.go)
	respBody        bodyFlow    // the upstream response body's chunks
	res             Result
	done            chan struct{}
	isDone          bool
	ctx             context.Context // bounds the upstream call (Run); nil means none
	// direct: Run's goroutine is driving the stream's first callbacks and
	// calls the upstream itself once they reach it (upstreamDue), rather
	// than through the worker's queue, which another request's flush
	// could take and hand to a new goroutine.
	direct, upstreamDue bool
}

// ID is the stream's context id (0 when it bypassed a failed VM).
func (s *Stream) ID() uint32 { return s.id }

// Paused reports whether the plugin holds the stream.
func (s *Stream) Paused() bool {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	return s.paused
}

// Done reports whether the stream ended.
func (s *Stream) Done() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Result is the outcome; valid once Done.
func (s *Stream) Result() Result {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	return s.res
}

// Wait blocks until the stream ends or ctx is done (RealTime mode; in
// virtual mode only Advance can end a paused stream).
func (s *Stream) Wait(ctx context.Context) (Result, error) {
	select {
	case <-s.done:
		return s.Result(), nil
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// Reset resets the stream from the client side now, e.g. while a delay
// holds it.
func (s *Stream) Reset() { s.reset("client") }

func (s *Stream) reset(by string) {
	s.w.mu.Lock()
	if !s.isDone {
		s.resetLocked(by)
	}
	s.w.mu.Unlock()
}

// Start runs the request's callbacks until the stream pauses, ends or waits
// for its upstream (virtual mode calls the upstream before returning).
func (h *Host) Start(req Request) *Stream {
	return h.start(nil, req)
}

// Run is Start then Wait, for RealTime hosts serving real clients (the
// nedry proxy). When the stream reaches the upstream straight from its
// request callbacks, the upstream exchange runs on the calling goroutine
// instead of a new one, saving a goroutine hand-off per request; a stream
// resumed later by a tick still calls it from its own goroutine. ctx bounds
// the upstream exchange too. If ctx ends before the stream does, the stream
// is reset as a downstream reset is in Envoy, and ctx's error is returned.
func (h *Host) Run(ctx context.Context, req Request) (Result, error) {
	s := h.start(ctx, req)
	res, err := s.Wait(ctx)
	if err != nil {
		s.Reset()
	}
	return res, err
}

func (h *Host) start(ctx context.Context, req Request) *Stream {
	headers := normalizeRequestHeaders(req.Headers)
	h.active.Add(1)
	w := h.lockWorker(&req)
	s := &Stream{h: h, w: w, req: req, done: make(chan struct{}), ctx: ctx}
	s.res.Upstream = nil
	if w.vm.Failed != nil && h.opts.FailurePolicy == FailReload {
		if err := h.startWorker(w); err != nil {
			h.recordTrap(err)
		}
	}
	switch {
	case w.vm.Failed != nil && h.opts.FailurePolicy == FailOpen:
		s.c = nil
		s.upstreamHeaders = headers
	case w.vm.Failed != nil:
		s.c = nil
		s.upstreamHeaders = headers
		s.failClosed()
	default:
		c, err := w.vm.NewStream(w.root, headers, req.Properties)
		s.c, s.id = c, c.ID
		w.streams[c.ID] = s
		if err != nil {
			s.trapped(err)
		}
	}
	direct := false
	if !s.isDone {
		s.direct = h.opts.RealTime && ctx != nil
		s.drive()
		direct = s.upstreamDue
		s.direct, s.upstreamDue = false, false
	}
	w.mu.Unlock()
	h.flush(w, s)
	if direct {
		s.callUpstream()
		h.flush(w, nil)
	}
	return s
}

// requestDefaults are the pseudo headers a Request may leave out, with the
// values normalizeRequestHeaders gives them.
var requestDefaults = [...][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "example.com"}, {":scheme", "http"}}

// normalizeRequestHeaders lowercases the keys into a fresh slice (the guest
// may edit it; the caller's stays untouched) and puts the missing pseudo
// headers first. It runs on every request of the nedry proxy, so it tracks
// the present pseudo headers in a bit set rather than a map and allocates
// only the result.
func normalizeRequestHeaders(in [][2]string) [][2]string {
	var have uint8
	for _, kv := range in {
		if k := kv[0]; len(k) > 0 && k[0] == ':' {
			k = strings.ToLower(k)
			for i, d := range requestDefaults {
				if k == d[0] {
					have |= 1 << i
				}
			}
		}
	}
	missing := len(requestDefaults) - bits.OnesCount8(have)
	out := make([][2]string, 0, len(in)+missing)
	for i, d := range requestDefaults {
		if have&(1<<i) == 0 {
			out = append(out, d)
		}
	}
	for _, kv := range in {
		// strings.ToLower returns its argument, without allocating, when
		// there is nothing to lower.
		out = append(out, [2]string{strings.ToLower(kv[0]), kv[1]})
	}
	return out
}

// vmTrapped marks w's VM failed (cpp-host: the VM fails as a whole).
func (h *Host) vmTrapped(w *worker, err error) {
	h.recordTrap(err)
}

// trapped handles a trap on s's own callback: the VM is failed and the
// stream follows the failure policy, as cpp-host's CHECK_FAIL after a call.
func (s *Stream) trapped(err error) {
	s.h.vmTrapped(s.w, err)
	s.res.Trap = err
	if s.h.opts.FailurePolicy == FailOpen {
		return // the stream goes on untouched, without further callbacks
	}
	s.failClosed()
}

// failClosed answers like Envoy's failStream: 503, details
// wasm_fail_stream; gRPC requests get grpc-status 14 (UNAVAILABLE).
func (s *Stream) failClosed() {
	s.stage = stageEnd
	reply := &abi.LocalReply{Status: 503, Details: "wasm_fail_stream", GRPCStatus: -1}
	if isGRPC(s.requestHeaders()) {
		reply.GRPCStatus = 14
	}
	s.res.LocalReply = resultReply(reply)
	resp := &Response{Status: replyStatus(reply), Body: cloneBody(replyBody(reply))}
	if pairs := replyResponsePairs(reply); len(pairs) > 1 {
		resp.Headers = pairs[1:]
	}
	s.res.Response = resp
	s.end()
}

func (s *Stream) requestHeaders() [][2]string {
	if s.c != nil {
		return s.c.Maps[abi.MapRequestHeaders].Pairs
	}
	return s.upstreamHeaders
}

func (s *Stream) vmOK() bool { return s.c != nil && s.w.vm.Failed == nil }

// drive runs callbacks until the stream pauses, ends or needs its upstream.
// Holds w.mu.
func (s *Stream) drive() {
	vm := s.w.vm
	for !s.isDone && !s.paused {
		var act abi.Action
		var err error
		called := s.vmOK()
		switch s.stage {
		case stageRequestHeaders:
			s.stage = stageRequestBody
			if called {
				act, err = vm.OnRequestHeaders(s.c, len(bodyChunks(s.req.Body, s.req.Chunks)) == 0 && len(s.req.Trailers) == 0)
			}
			if s.after(act, err, called) {
				return
			}
			if s.req.ResetAt == ResetAfterRequestHeaders {
				s.resetLocked("client")
				return
			}
		case stageRequestBody:
			if s.bodyStep(&s.reqBody, abi.BufferRequestBody, bodyChunks(s.req.Body, s.req.Chunks), len(s.req.Trailers) > 0, stageRequestTrailers) {
				return
			}
		case stageRequestTrailers:
			s.stage = stageUpstream
			if len(s.req.Trailers) == 0 {
				continue
			}
			if called {
				s.c.Maps[abi.MapRequestTrailers] = &abi.HeaderMap{Pairs: lowerPairs(s.req.Trailers)}
				act, err = vm.OnRequestTrailers(s.c)
			}
			if s.after(act, err, called) {
				return
			}
		case stageUpstream:
			s.stage = stageWaitUpstream
			if s.c != nil {
				s.c.Phase = abi.PhaseUpstream
			}
			// No copy of the header map: from PhaseUpstream on the guest can
			// no longer write request headers (headers.go), the upstream
			// function gets its own copy (callUpstream), and the capacity cap
			// keeps a caller's append off the stream's array.
			rh := s.requestHeaders()
			up := &UpstreamRequest{Headers: rh[:len(rh):len(rh)], Body: s.requestBody(), Trailers: s.requestTrailers()}
			s.checkContentLength("request", rh, up.Body)
			s.res.Upstream = up
			if s.direct {
				s.upstreamDue = true
				return
			}
			s.w.queue = append(s.w.queue, s)
			return
		case stageWaitUpstream:
			return
		case stageResponseHeaders:
			s.stage = stageResponseBody
			resp := s.upstream
			if called && !s.local {
				s.c.Maps[abi.MapResponseHeaders] = &abi.HeaderMap{Pairs: responsePairs(resp)}
			}
			if called {
				act, err = vm.OnResponseHeaders(s.c, len(bodyChunks(resp.Body, resp.Chunks)) == 0 && len(resp.Trailers) == 0)
			}
			if s.after(act, err, called) {
				return
			}
			if s.req.ResetAt == ResetAfterResponseHeaders {
				s.resetLocked("client")
				return
			}
		case stageResponseBody:
			if !s.local {
				if s.bodyStep(&s.respBody, abi.BufferResponseBody, bodyChunks(s.upstream.Body, s.upstream.Chunks), len(s.upstream.Trailers) > 0, stageResponseTrailers) {
					return
				}
				continue
			}
			s.stage = stageResponseTrailers
			if len(s.upstream.Body) == 0 {
				continue
			}
			if called {
				s.c.Bodies[abi.BufferResponseBody] = append([]byte(nil), s.upstream.Body...)
				act, err = vm.OnResponseBody(s.c, len(s.upstream.Trailers) == 0)
			}
			if s.after(act, err, called) {
				return
			}
		case stageResponseTrailers:
			s.stage = stageEnd
			if len(s.upstream.Trailers) == 0 {
				continue
			}
			if called {
				s.c.Maps[abi.MapResponseTrailers] = &abi.HeaderMap{Pairs: lowerPairs(s.upstream.Trailers)}
				act, err = vm.OnResponseTrailers(s.c)
			}
			if s.after(act, err, called) {
				return
			}
		case stageEnd:
			s.finishResponse()
			s.end()
			return
		}
	}
}

// after applies a callback's outcome; true means stop driving.
func (s *Stream) after(act abi.Action, err error, called bool) bool {
	if !called {
		return false
	}
	if err != nil {
		s.trapped(err)
		return true
	}
	s.h.applyPending(s.w)
	if s.isDone {
		return true
	}
	if s.local && s.stage == stageResponseBody && s.c.Reply != nil && s.upstream == nil {
		return false
	}
	if act == abi.ActionPause && !s.local {
		s.pause()
		return true
	}
	return s.isDone
}

func (s *Stream) pause() {
	s.paused = true
	s.c.Paused = true
	s.pausedAt = s.h.clock()
	s.h.paused.Add(1)
}

func (s *Stream) unpause() {
	if !s.paused {
		return
	}
	s.paused = false
	s.c.Paused = false
	s.res.Held += s.h.clock().Sub(s.pausedAt)
	s.h.paused.Add(-1)
}

// applyPending applies the continues, resets and local replies the guest
// asked for during the VM call that just returned (Envoy defers them until
// the call returns). Holds w.mu.
func (h *Host) applyPending(w *worker) {
	for _, c := range w.vm.TakePending() {
		s := w.streams[c.ID]
		if s == nil || s.isDone {
			continue
		}
		switch {
		case c.Close:
			c.Close = false
			s.resetLocked("plugin")
		case c.Reply != nil && !s.local:
			s.localReply(c.Reply)
		case c.Continue:
			c.Continue = false
			s.unpause()
			if s.c.Phase == abi.PhaseRequestHeaders && s.req.ResetAt == ResetAfterRequestHeaders {
				s.resetLocked("client")
				continue
			}
			s.drive()
		}
	}
}

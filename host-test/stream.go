package hosttest

import (
	"context"
	"maps"
	"math/bits"
	"strconv"
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
	res             Result
	done            chan struct{}
	isDone          bool
	ctx             context.Context // bounds the upstream call (Run); nil means none
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
	w := h.pick(&req)
	s := &Stream{h: h, w: w, req: req, done: make(chan struct{}), ctx: ctx}
	s.res.Upstream = nil
	headers := normalizeRequestHeaders(req.Headers)
	// A copy: proxy_set_property writes into the stream's map, and the
	// caller's must not change.
	props := maps.Clone(req.Properties)
	h.active.Add(1)
	w.mu.Lock()
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
		c, err := w.vm.NewStream(w.root, headers, props)
		s.c, s.id = c, c.ID
		w.streams[c.ID] = s
		if err != nil {
			s.trapped(err)
		}
	}
	if !s.isDone {
		s.drive()
	}
	w.mu.Unlock()
	h.flush(w, s)
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
				act, err = vm.OnRequestHeaders(s.c, len(s.req.Body) == 0 && len(s.req.Trailers) == 0)
			}
			if s.after(act, err, called) {
				return
			}
			if s.req.ResetAt == ResetAfterRequestHeaders {
				s.resetLocked("client")
				return
			}
		case stageRequestBody:
			s.stage = stageRequestTrailers
			if len(s.req.Body) == 0 {
				continue
			}
			if called {
				s.c.Bodies[abi.BufferRequestBody] = append([]byte(nil), s.req.Body...)
				act, err = vm.OnRequestBody(s.c, len(s.req.Trailers) == 0)
			}
			if s.after(act, err, called) {
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
			s.res.Upstream = up
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
				act, err = vm.OnResponseHeaders(s.c, len(resp.Body) == 0 && len(resp.Trailers) == 0)
			}
			if s.after(act, err, called) {
				return
			}
			if s.req.ResetAt == ResetAfterResponseHeaders {
				s.resetLocked("client")
				return
			}
		case stageResponseBody:
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

// localReply starts answering with the plugin's reply, as Envoy's
// sendLocalReply: the upstream never sees the request (or its response is
// dropped), and proxy_on_response_headers runs on the reply.
//
// Every aborted request comes through here, so it allocates little: the
// result takes the reply over instead of copying it (resultReply), the
// reply's response records share one allocation (localReplyState), and its
// header pairs are built once, :status included, straight into the map the
// guest sees.
func (s *Stream) localReply(r *abi.LocalReply) {
	s.unpause()
	s.local = true
	s.res.LocalReply = resultReply(r)
	st := &localReplyState{reply: r}
	st.upstream = Response{Status: replyStatus(r), Body: replyBody(r)}
	s.localState = st
	s.upstream = &st.upstream
	if s.c.Phase <= abi.PhaseUpstream {
		s.res.Upstream = nil
	}
	if s.vmOK() && s.c.Phase < abi.PhaseResponseHeaders {
		st.headers.Pairs = replyResponsePairs(r)
		s.c.Maps[abi.MapResponseHeaders] = &st.headers
		s.stage = stageResponseHeaders
	} else {
		// Asked for during the response path: the reply replaces the
		// response without running the response callbacks again.
		s.stage = stageEnd
	}
	s.drive()
}

// localReplyState is what a stream answered locally needs besides the reply,
// in one allocation: the reply as the response the callbacks run on, the
// response header map the guest sees, and the response the client gets.
type localReplyState struct {
	reply *abi.LocalReply
	// upstream stands in for the upstream's response. Its Body is the
	// reply's own (read only: the guest and the client get copies) and it
	// has no Headers: replyResponsePairs builds them from reply.
	upstream Response
	headers  abi.HeaderMap
	client   Response
}

// resultReply hands r over to the stream's result. r is the host's own copy
// of the guest's arguments (ProxySendLocalResponse), nobody writes it once
// the hostcall returned, and no other part of the result shares its body or
// header slices, so the result takes it rather than a copy. LocalReply
// mirrors abi.LocalReply field for field, which makes the conversion free; a
// field added to one and not the other stops this compiling.
func resultReply(r *abi.LocalReply) *LocalReply { return (*LocalReply)(r) }

// replyStatus is the HTTP status Envoy's sendLocalReply sends: 200 for gRPC,
// whose status travels in grpc-status.
func replyStatus(r *abi.LocalReply) int {
	if r.GRPCStatus >= 0 {
		return 200
	}
	return r.Status
}

// replyBody is the HTTP body Envoy's sendLocalReply sends: none for gRPC,
// whose body travels in grpc-message. It is r's own slice, not a copy.
func replyBody(r *abi.LocalReply) []byte {
	if r.GRPCStatus >= 0 {
		return nil
	}
	return r.Body
}

// replyResponsePairs builds, in one allocation, the response headers Envoy's
// sendLocalReply sends, :status first: for gRPC, content-type
// application/grpc, grpc-status and the body as grpc-message; otherwise, for
// a body, its content-length and content-type text/plain. The plugin's
// headers follow, lowercased, without any :status of theirs.
func replyResponsePairs(r *abi.LocalReply) [][2]string {
	out := make([][2]string, 0, 4+len(r.Headers))
	out = append(out, [2]string{":status", decimal(replyStatus(r))})
	switch {
	case r.GRPCStatus >= 0:
		out = append(out, [2]string{"content-type", "application/grpc"},
			[2]string{"grpc-status", decimal(int(r.GRPCStatus))})
		if len(r.Body) > 0 {
			out = append(out, [2]string{"grpc-message", string(r.Body)})
		}
	case len(r.Body) > 0:
		out = append(out, [2]string{"content-length", decimal(len(r.Body))}, [2]string{"content-type", "text/plain"})
	}
	for _, kv := range r.Headers {
		if k := strings.ToLower(kv[0]); k != ":status" {
			out = append(out, [2]string{k, kv[1]})
		}
	}
	return out
}

// threeDigits holds "100101102…999", so decimal can slice the text of an HTTP
// status (or a short body's length) instead of allocating it as
// strconv.Itoa does from 100 up.
var threeDigits = func() string {
	b := make([]byte, 0, 3*900)
	for n := 100; n <= 999; n++ {
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return string(b)
}()

// decimal is strconv.Itoa(n), without allocating for n below 1000.
func decimal(n int) string {
	if n >= 100 && n <= 999 {
		i := 3 * (n - 100)
		return threeDigits[i : i+3]
	}
	return strconv.Itoa(n)
}

func responsePairs(r *Response) [][2]string {
	out := make([][2]string, 0, len(r.Headers)+1)
	out = append(out, [2]string{":status", strconv.Itoa(r.Status)})
	for _, kv := range r.Headers {
		if kv[0] == ":status" {
			continue
		}
		out = append(out, [2]string{strings.ToLower(kv[0]), kv[1]})
	}
	return out
}

// finishResponse records what the client received.
func (s *Stream) finishResponse() {
	if s.res.Response != nil || s.upstream == nil {
		return
	}
	if s.local {
		s.finishLocalReply()
		return
	}
	resp := &Response{Body: s.upstream.Body, Trailers: s.upstream.Trailers}
	headers := responsePairs(s.upstream)
	if s.c != nil {
		if m := s.c.Maps[abi.MapResponseHeaders]; m != nil {
			headers = m.Pairs
		}
		if s.c.Bodies[abi.BufferResponseBody] != nil {
			resp.Body = s.c.Bodies[abi.BufferResponseBody]
		}
		if m := s.c.Maps[abi.MapResponseTrailers]; m != nil {
			resp.Trailers = m.Pairs
		}
	}
	if len(headers) > 1 {
		resp.Headers = make([][2]string, 0, len(headers)-1)
	}
	for _, kv := range headers {
		if kv[0] == ":status" {
			resp.Status, _ = strconv.Atoi(kv[1])
			continue
		}
		resp.Headers = append(resp.Headers, kv)
	}
	s.res.Response = resp
}

// finishLocalReply records what the client received for a local reply: the
// response headers as the guest left them, or the reply's own when the
// response callbacks never ran on it (asked for before the response path
// but the VM failed since, or asked for during it), and the body the guest
// saw, or a copy of the reply's.
func (s *Stream) finishLocalReply() {
	st := s.localState
	resp := &st.client
	resp.Trailers = st.upstream.Trailers
	var headers [][2]string
	if m := s.c.Maps[abi.MapResponseHeaders]; m != nil && s.c.Phase >= abi.PhaseResponseHeaders {
		headers = m.Pairs
	} else {
		headers = replyResponsePairs(st.reply)
	}
	if b := s.c.Bodies[abi.BufferResponseBody]; b != nil {
		resp.Body = b
	} else {
		// The reply's body is the result's LocalReply.Body too.
		resp.Body = cloneBody(st.upstream.Body)
	}
	if m := s.c.Maps[abi.MapResponseTrailers]; m != nil {
		resp.Trailers = m.Pairs
	}
	resp.Status, resp.Headers = splitStatus(headers)
	if resp.Status == 0 {
		resp.Status = st.upstream.Status
	}
	s.res.Response = resp
}

// splitStatus returns the value of the last :status in pairs (0 if none or
// not a number) and the other pairs, as finishResponse splits them: a lone
// :status, or no pairs, give nil headers. When :status comes first and only
// once, as the host builds the map, the others are handed over as a
// subslice: the map is this stream's own, the guest can no longer write it
// (response headers are writable only in proxy_on_response_headers) and the
// capacity cap keeps a caller's append off it. Otherwise they are copied.
func splitStatus(pairs [][2]string) (int, [][2]string) {
	status, others := 0, 0
	for _, kv := range pairs {
		if kv[0] == ":status" {
			status, _ = strconv.Atoi(kv[1])
		} else {
			others++
		}
	}
	switch {
	case len(pairs) == 0 || len(pairs) == 1 && others == 0:
		return status, nil
	case others > 0 && others == len(pairs)-1 && pairs[0][0] == ":status":
		return status, pairs[1:len(pairs):len(pairs)]
	}
	out := make([][2]string, 0, others)
	for _, kv := range pairs {
		if kv[0] != ":status" {
			out = append(out, kv)
		}
	}
	return status, out
}

func (s *Stream) resetLocked(by string) {
	s.unpause()
	s.res.Reset = true
	s.res.ResetBy = by
	s.res.Response = nil
	s.stage = stageEnd
	s.end()
}

// end finishes the stream: proxy_on_log, proxy_on_done, proxy_on_delete.
func (s *Stream) end() {
	if s.isDone {
		return
	}
	s.isDone = true
	s.stage = stageDone
	if s.c != nil {
		if err := s.w.vm.EndStream(s.c); err != nil {
			s.h.vmTrapped(s.w, err)
			if s.res.Trap == nil {
				s.res.Trap = err
			}
		}
		// proxy_on_delete was the context's last callback and the context
		// is dropped below, so the list is handed over rather than copied;
		// the capacity cap keeps a caller's append off the shared array.
		s.res.Callbacks = s.c.Callbacks[:len(s.c.Callbacks):len(s.c.Callbacks)]
		delete(s.w.streams, s.c.ID)
		if s.w.vm.Failed == nil {
			s.h.finishRetired(s.w)
		}
	}
	s.h.active.Add(-1)
	close(s.done)
}

// flush makes the upstream calls queued on w, without holding w.mu, then
// drives those streams on. RealTime mode makes each call on its own
// goroutine so a slow upstream never blocks a tick.
//
// In RealTime mode each upstream exchange runs on a goroutine of its own so a
// slow upstream never holds up other streams, except own's (the stream the
// calling goroutine started with Run), which runs right here.
func (h *Host) flush(w *worker, own *Stream) {
	for {
		w.mu.Lock()
		q := w.queue
		w.queue = nil
		w.mu.Unlock()
		if len(q) == 0 {
			return
		}
		inline := false
		for _, s := range q {
			if h.opts.RealTime && (s != own || own.ctx == nil) {
				go func(s *Stream) {
					s.callUpstream()
					h.flush(w, nil)
				}(s)
				continue
			}
			if s == own {
				inline = true
				continue
			}
			s.callUpstream()
		}
		if inline {
			own.callUpstream()
		}
	}
}

func (s *Stream) callUpstream() {
	s.w.mu.Lock()
	up := s.res.Upstream
	done := s.isDone
	s.w.mu.Unlock()
	if done || up == nil {
		return
	}
	ctx := s.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	resp, err := s.h.upstreamFor(&s.req)(ctx, cloneUpstream(up))
	if err != nil || resp == nil {
		resp = &Response{Status: 503, Headers: [][2]string{{"content-type", "text/plain"}},
			Body: []byte("upstream connect error or disconnect/reset before headers")}
	}
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	if s.isDone {
		return
	}
	s.upstream = resp
	s.stage = stageResponseHeaders
	s.drive()
}

func (s *Stream) requestBody() []byte {
	if s.c != nil && s.c.Bodies[abi.BufferRequestBody] != nil {
		return append([]byte(nil), s.c.Bodies[abi.BufferRequestBody]...)
	}
	return append([]byte(nil), s.req.Body...)
}

func (s *Stream) requestTrailers() [][2]string {
	if s.c != nil && s.c.Maps[abi.MapRequestTrailers] != nil {
		return clonePairs(s.c.Maps[abi.MapRequestTrailers].Pairs)
	}
	return lowerPairs(s.req.Trailers)
}

func cloneUpstream(u *UpstreamRequest) *UpstreamRequest {
	return &UpstreamRequest{Headers: clonePairs(u.Headers), Body: append([]byte(nil), u.Body...), Trailers: clonePairs(u.Trailers)}
}

func cloneBody(b []byte) []byte { return append([]byte(nil), b...) }

func clonePairs(p [][2]string) [][2]string {
	if p == nil {
		return nil
	}
	return append([][2]string(nil), p...)
}

func lowerPairs(p [][2]string) [][2]string {
	if p == nil {
		return nil
	}
	out := make([][2]string, len(p))
	for i, kv := range p {
		out[i] = [2]string{strings.ToLower(kv[0]), kv[1]}
	}
	return out
}

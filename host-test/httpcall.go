package hosttest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/nedry-chaos/nedry/host-test/internal/abi"
)

// Cluster is an upstream cluster that proxy_http_call can reach, scripted
// by the test (Options.Clusters). A call to a cluster the host does not
// know answers BadArgument, as Envoy does.
type Cluster struct {
	// Handler answers each call; nil answers 200 "ok". An error that is
	// ErrReset resets the call (the guest's callback gets no response, as
	// Envoy's onHttpCallFailure); any other error is a connection failure,
	// which Envoy's router answers with a 503 the callback sees.
	Handler func(ctx context.Context, req *UpstreamRequest) (*Response, error)
	// Latency is how long the cluster takes to answer (virtual clock; real
	// time in RealTime mode). A call whose timeout is at most its latency
	// gets Envoy's 504 "upstream request timeout" at its timeout instead.
	Latency time.Duration
}

// ErrReset, returned by a Cluster.Handler, resets the call.
var ErrReset = errors.New("http call reset")

// HTTPCall is one proxy_http_call as the host saw it.
type HTTPCall struct {
	Worker  int
	Cluster string
	// Request is the call as the cluster received it: headers in the
	// guest's order (content-length set when there is a body, as Envoy
	// sets it), body and trailers. In RealTime mode (a long-running
	// proxy) the record keeps no bodies, of the request or the Response.
	Request UpstreamRequest
	Timeout time.Duration
	// Sent is the clock time of the call.
	Sent time.Time
	// Outcome is "pending" until the call ends, then "response" (the
	// callback got Response), "timeout" (Envoy's 504), "reset" or
	// "cancelled" (the root context that owned it was deleted, or its VM
	// replaced, before the answer: the guest never hears of it).
	Outcome  string
	Response *Response
	// Done is the clock time the call ended.
	Done time.Time
}

// maxCalls bounds the record of a Host's calls, as maxLogs its logs: a
// long-running proxy (nedry run) makes calls for as long as it runs.
const maxCalls = 10_000

// pendingCall is a call on its way to the cluster.
type pendingCall struct {
	vm  *abi.VM
	hc  *abi.HTTPCall
	req UpstreamRequest // what the cluster receives (a copy of the guest's)
	rec int             // sequence number of its record (callBook.record)
	at  time.Time
	// timeout: at is the call's timeout, not the cluster's answer.
	timeout bool
}

// callBook is the host's record and schedule of HTTP calls.
type callBook struct {
	mu sync.Mutex
	// calls are the records of the most recent calls; dropped is how many
	// older ones were let go, so call number n is calls[n-dropped].
	calls   []HTTPCall
	dropped int
	pending []pendingCall
	// closed: the host is closing (RealTime); calls are no longer sent.
	closed bool
}

// record returns the record of call number rec, or nil once dropped.
// Holds mu.
func (b *callBook) record(rec int) *HTTPCall {
	if i := rec - b.dropped; i >= 0 && i < len(b.calls) {
		return &b.calls[i]
	}
	return nil
}

// HTTPCalls returns the calls the guests made so far, in order (the most
// recent 10,000 at most).
func (h *Host) HTTPCalls() []HTTPCall {
	h.book.mu.Lock()
	defer h.book.mu.Unlock()
	return append([]HTTPCall(nil), h.book.calls...)
}

func (h *Host) clusterKnown(name string) bool {
	_, ok := h.opts.Clusters[name]
	return ok
}

// onHTTPCall records a call the guest just made and schedules its answer.
// It runs inside the hostcall, with the worker locked, so it never calls
// into a VM or a handler.
func (h *Host) onHTTPCall(vm *abi.VM, hc *abi.HTTPCall) {
	cl := h.opts.Clusters[hc.Cluster]
	now := h.clock()
	req := UpstreamRequest{Headers: clonePairs(hc.Headers), Body: cloneBody(hc.Body), Trailers: clonePairs(hc.Trailers)}
	h.book.mu.Lock()
	defer h.book.mu.Unlock()
	if len(h.book.calls) >= maxCalls {
		n := copy(h.book.calls, h.book.calls[maxCalls/10:])
		h.book.dropped += len(h.book.calls) - n
		h.book.calls = h.book.calls[:n]
	}
	rec := h.book.dropped + len(h.book.calls)
	recorded := req
	if h.opts.RealTime {
		recorded.Body = nil
	}
	h.book.calls = append(h.book.calls, HTTPCall{Worker: vm.Worker, Cluster: hc.Cluster,
		Request: recorded, Timeout: hc.Timeout, Sent: now, Outcome: "pending"})
	pc := pendingCall{vm: vm, hc: hc, req: req, rec: rec, at: now.Add(cl.Latency)}
	if hc.Timeout > 0 && hc.Timeout <= cl.Latency {
		pc.at, pc.timeout = now.Add(hc.Timeout), true
	}
	switch {
	case !h.opts.RealTime:
		h.book.pending = append(h.book.pending, pc)
	case h.book.closed:
		// Close is under way: the call is cancelled, as Envoy's are when
		// their root context goes.
		c := h.book.record(rec)
		c.Outcome, c.Done = "cancelled", now
	default:
		// Counted under book.mu, which Close takes to set closed before
		// it waits: every call either started before the wait or not at
		// all.
		h.bg.Add(1)
		go h.callRealTime(pc, cl)
	}
}

// callRealTime makes a call on the wall clock, on its own goroutine. Close
// cancels it and waits for it, so no call outlives its host.
func (h *Host) callRealTime(pc pendingCall, cl Cluster) {
	defer h.bg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := context.AfterFunc(h.life, cancel)
	defer stop()
	if pc.hc.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, pc.hc.Timeout)
		defer cancel()
	}
	resp, outcome := h.askCluster(ctx, pc, cl)
	switch {
	case h.life.Err() != nil:
		h.endCall(pc.rec, "cancelled", nil)
		return
	case ctx.Err() != nil:
		resp, outcome = timeoutResponse(), "timeout"
	}
	h.deliverCall(pc, resp, outcome)
}

func (h *Host) askCluster(ctx context.Context, pc pendingCall, cl Cluster) (*Response, string) {
	req := *cloneUpstream(&pc.req)
	if cl.Handler == nil {
		return &Response{Status: 200, Headers: [][2]string{{"content-type", "text/plain"}}, Body: []byte("ok")}, "response"
	}
	resp, err := cl.Handler(ctx, &req)
	switch {
	case errors.Is(err, ErrReset):
		return nil, "reset"
	case err != nil || resp == nil:
		return &Response{Status: 503, Headers: [][2]string{{"content-type", "text/plain"}},
			Body: []byte("upstream connect error or disconnect/reset before headers. reset reason: connection failure")}, "response"
	}
	return resp, "response"
}

// timeoutResponse is the local reply Envoy's async client hands a call
// whose timeout passed: it reaches the guest as a response, not a failure.
func timeoutResponse() *Response {
	return &Response{Status: 504, Headers: [][2]string{{"content-type", "text/plain"}}, Body: []byte("upstream request timeout")}
}

// nextCall returns the index of the earliest scheduled call due at or
// before limit, or -1.
func (h *Host) nextCall(limit time.Time) (int, time.Time) {
	h.book.mu.Lock()
	defer h.book.mu.Unlock()
	best := -1
	for i, p := range h.book.pending {
		if !p.at.After(limit) && (best < 0 || p.at.Before(h.book.pending[best].at)) {
			best = i
		}
	}
	if best < 0 {
		return -1, time.Time{}
	}
	return best, h.book.pending[best].at
}

// answerCall asks the cluster for scheduled call i (outside every lock but
// the clock's) and delivers its answer.
func (h *Host) answerCall(i int) {
	h.book.mu.Lock()
	pc := h.book.pending[i]
	h.book.pending = append(h.book.pending[:i], h.book.pending[i+1:]...)
	h.book.mu.Unlock()
	resp, outcome := h.askCluster(context.Background(), pc, h.opts.Clusters[pc.hc.Cluster])
	if pc.timeout {
		resp, outcome = timeoutResponse(), "timeout"
	}
	h.deliverCall(pc, resp, outcome)
}

// deliverCall hands resp to the guest, unless the call was cancelled
// meanwhile, and applies what the guest asked for in its callback.
func (h *Host) deliverCall(pc pendingCall, resp *Response, outcome string) {
	var w *worker
	for _, wk := range h.workers {
		if wk.idx == pc.vm.Worker {
			w = wk
		}
	}
	if w == nil {
		h.endCall(pc.rec, "cancelled", nil)
		return
	}
	w.mu.Lock()
	if w.vm != pc.vm || !w.vm.InFlight(pc.hc) {
		w.mu.Unlock()
		h.endCall(pc.rec, "cancelled", nil)
		return
	}
	h.endCall(pc.rec, outcome, resp)
	r := &abi.HTTPCallResponse{Failed: outcome == "reset"}
	if resp != nil {
		r.Headers = append([][2]string{{":status", strconv.Itoa(resp.Status)}}, lowerPairs(resp.Headers)...)
		r.Body = cloneBody(resp.Body)
		r.Trailers = lowerPairs(resp.Trailers)
	}
	if err := w.vm.OnHTTPCallResponse(pc.hc, r); err != nil {
		h.vmTrapped(w, err)
	}
	h.applyPending(w)
	h.finishRetired(w)
	w.mu.Unlock()
	h.flush(w, nil)
}

func (h *Host) endCall(rec int, outcome string, resp *Response) {
	h.book.mu.Lock()
	if c := h.book.record(rec); c != nil {
		if resp != nil && h.opts.RealTime {
			resp = &Response{Status: resp.Status, Headers: resp.Headers, Trailers: resp.Trailers}
		}
		c.Outcome, c.Response, c.Done = outcome, resp, h.clock()
	}
	h.book.mu.Unlock()
}

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
	// sets it), body and trailers.
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

// pendingCall is a call waiting for the virtual clock to reach its answer.
type pendingCall struct {
	vm  *abi.VM
	hc  *abi.HTTPCall
	rec int // index into Host.calls
	at  time.Time
	// timeout: at is the call's timeout, not the cluster's answer.
	timeout bool
}

// callBook is the host's record and schedule of HTTP calls.
type callBook struct {
	mu      sync.Mutex
	calls   []HTTPCall
	pending []pendingCall
}

// HTTPCalls returns every call the guests made so far, in order.
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
	h.book.mu.Lock()
	rec := len(h.book.calls)
	h.book.calls = append(h.book.calls, HTTPCall{Worker: vm.Worker, Cluster: hc.Cluster,
		Request: UpstreamRequest{Headers: clonePairs(hc.Headers), Body: cloneBody(hc.Body), Trailers: clonePairs(hc.Trailers)},
		Timeout: hc.Timeout, Sent: now, Outcome: "pending"})
	pc := pendingCall{vm: vm, hc: hc, rec: rec, at: now.Add(cl.Latency)}
	if hc.Timeout > 0 && hc.Timeout <= cl.Latency {
		pc.at, pc.timeout = now.Add(hc.Timeout), true
	}
	if !h.opts.RealTime {
		h.book.pending = append(h.book.pending, pc)
	}
	h.book.mu.Unlock()
	if h.opts.RealTime {
		go h.callRealTime(pc, cl)
	}
}

// callRealTime makes a call on the wall clock, on its own goroutine.
func (h *Host) callRealTime(pc pendingCall, cl Cluster) {
	ctx := context.Background()
	if pc.hc.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, pc.hc.Timeout)
		defer cancel()
	}
	resp, outcome := h.askCluster(ctx, pc, cl)
	if ctx.Err() != nil {
		resp, outcome = timeoutResponse(), "timeout"
	}
	h.deliverCall(pc, resp, outcome)
}

func (h *Host) askCluster(ctx context.Context, pc pendingCall, cl Cluster) (*Response, string) {
	h.book.mu.Lock()
	req := h.book.calls[pc.rec].Request
	h.book.mu.Unlock()
	req = *cloneUpstream(&req)
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
	c := &h.book.calls[rec]
	c.Outcome, c.Response, c.Done = outcome, resp, h.clock()
	h.book.mu.Unlock()
}

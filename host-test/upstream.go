package hosttest

import (
	"context"
	"strings"
	"time"

	"github.com/nedry-chaos/nedry/host-test/internal/abi"
)

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
	if d := s.req.UpstreamLatency; d > 0 {
		if !s.h.opts.RealTime {
			s.h.awaitUpstream(s, resp, s.h.clock().Add(d))
			return
		}
		time.Sleep(d) // on the exchange's own goroutine (see flush)
	}
	s.answer(resp)
}

// answer hands the upstream's response to the stream.
func (s *Stream) answer(resp *Response) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	if s.isDone {
		return
	}
	s.upstream = resp
	s.stage = stageResponseHeaders
	s.drive()
}

// pendingAnswer is a slow upstream's response due at a clock time.
type pendingAnswer struct {
	s    *Stream
	resp *Response
	at   time.Time
}

// awaitUpstream keeps resp until the virtual clock reaches at.
func (h *Host) awaitUpstream(s *Stream, resp *Response, at time.Time) {
	h.answersMu.Lock()
	h.answers = append(h.answers, pendingAnswer{s, resp, at})
	h.answersMu.Unlock()
}

// nextAnswer returns the index of the earliest pending answer due at or
// before limit, or -1.
func (h *Host) nextAnswer(limit time.Time) (int, time.Time) {
	h.answersMu.Lock()
	defer h.answersMu.Unlock()
	best := -1
	for i, a := range h.answers {
		if !a.at.After(limit) && (best < 0 || a.at.Before(h.answers[best].at)) {
			best = i
		}
	}
	if best < 0 {
		return -1, time.Time{}
	}
	return best, h.answers[best].at
}

// deliverAnswer hands pending answer i to its stream and drives it on.
func (h *Host) deliverAnswer(i int) {
	h.answersMu.Lock()
	a := h.answers[i]
	h.answers = append(h.answers[:i], h.answers[i+1:]...)
	h.answersMu.Unlock()
	a.s.answer(a.resp)
	h.flush(a.s.w, nil)
}

func (s *Stream) requestBody() []byte {
	if s.reqBody.passed {
		return append([]byte(nil), s.reqBody.out...)
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

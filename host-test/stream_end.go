package hosttest

import (
	"strconv"
	"strings"

	"github.com/nedry-chaos/nedry/host-test/internal/abi"
)

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
	if s.respBody.passed {
		resp.Body = s.respBody.out
	}
	// The headers as the filter left them; the upstream's own only when no
	// VM saw them (fail open), so the common case builds no second copy.
	var headers [][2]string
	seen := false
	if s.c != nil {
		if m := s.c.Maps[abi.MapResponseHeaders]; m != nil {
			headers, seen = m.Pairs, true
		}
		if m := s.c.Maps[abi.MapResponseTrailers]; m != nil {
			resp.Trailers = m.Pairs
		}
	}
	if !seen {
		headers = responsePairs(s.upstream)
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
	s.checkContentLength("response", headers, resp.Body)
	s.res.Response = resp
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
		s.res.FilterState = s.c.FilterState
		delete(s.w.streams, s.c.ID)
		if s.w.vm.Failed == nil {
			s.h.finishRetired(s.w)
		}
	}
	s.h.active.Add(-1)
	close(s.done)
}

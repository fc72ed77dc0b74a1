package hosttest

import (
	"fmt"
	"strconv"

	"github.com/nedry-chaos/nedry/host-test/internal/abi"
)

// DefaultBufferLimit is the body buffer limit of a Host whose Options leave
// BufferLimit at zero: Envoy's default per_connection_buffer_limit_bytes,
// 1 MiB, which bounds what a filter may buffer on a stream.
const DefaultBufferLimit = 1 << 20

// bodyFlow is one direction of a stream's body as Envoy's filter manager
// hands it to the filter, one proxy_on_*_body callback per chunk as the
// client or the upstream sends it.
//
// A callback that returns Continue passes its chunk on (with whatever the
// guest wrote into it). One that returns Pause (StopIterationAndBuffer,
// which is what 1 converts to in cpp-host) keeps the data in the stream's
// buffer: the next chunk is added to that buffer before the next callback,
// which then sees, and may rewrite, the whole body so far (Envoy's
// Context::decodeData/encodeData with buffering_*_body_, and getBuffer
// answering the decoding or encoding buffer). A buffer past the host's
// limit is answered as Envoy's filter manager does; Pause on the last
// chunk holds the stream until proxy_continue_stream, then the buffer goes
// on.
type bodyFlow struct {
	next      int    // chunks delivered so far
	buffering bool   // the last callback returned StopIterationAndBuffer
	out       []byte // what went past the filter
	passed    bool   // the body stage ran (out is the body, even when empty)
}

// bodyChunks returns the body as chunks: Chunks when set, else Body as one.
func bodyChunks(body []byte, chunks [][]byte) [][]byte {
	if len(chunks) > 0 {
		return chunks
	}
	if len(body) > 0 {
		return [][]byte{body}
	}
	return nil
}

func (h *Host) bufferLimit() int {
	if h.opts.BufferLimit > 0 {
		return h.opts.BufferLimit
	}
	return DefaultBufferLimit
}

// bodyStep delivers the next chunk of one direction. It moves the stream to
// stage next once every chunk went past the filter; true means stop
// driving (paused, ended or trapped). Holds w.mu.
func (s *Stream) bodyStep(f *bodyFlow, t abi.BufferType, chunks [][]byte, trailers bool, next stage) bool {
	f.passed = true
	called := s.vmOK()
	if f.next >= len(chunks) {
		// Resumed after a Pause on the last chunk, or no body at all: what
		// the filter held goes on.
		if f.buffering && called {
			f.out = append(f.out, s.c.Bodies[t]...)
		}
		f.buffering = false
		if called {
			s.c.Bodies[t] = nil
		}
		s.stage = next
		return false
	}
	chunk := chunks[f.next]
	f.next++
	eos := f.next == len(chunks) && !trailers
	if !called {
		if f.buffering && s.c != nil {
			// The VM failed while the filter held the body: it goes on.
			f.out = append(f.out, s.c.Bodies[t]...)
			f.buffering = false
		}
		f.out = append(f.out, chunk...)
		if eos {
			s.stage = next
		}
		return false
	}
	buf := &s.c.Bodies[t]
	if f.buffering {
		*buf = append(*buf, chunk...)
		if len(*buf) > s.h.bufferLimit() {
			s.bufferOverflow(t)
			return true
		}
	} else {
		*buf = append([]byte(nil), chunk...)
	}
	var act abi.Action
	var err error
	if t == abi.BufferRequestBody {
		act, err = s.w.vm.OnRequestBody(s.c, eos)
	} else {
		act, err = s.w.vm.OnResponseBody(s.c, eos)
	}
	if err != nil {
		s.trapped(err)
		return true
	}
	s.h.applyPending(s.w)
	if s.isDone || s.local {
		return true
	}
	if act == abi.ActionPause {
		f.buffering = true
		if eos {
			s.pause()
			return true
		}
		return false
	}
	f.out = append(f.out, *buf...)
	*buf = nil
	f.buffering = false
	if eos {
		s.stage = next
	}
	return false
}

// bufferOverflow answers a body buffered past the limit as Envoy's filter
// manager does: a request gets a 413 local reply (details
// request_payload_too_large) through the filter chain; a response whose
// headers already went downstream, as they have whenever the filter sees
// its body, is reset (sendLocalReply's answer once the response started;
// Envoy sends a 500, response_payload_too_large, only while the headers
// are still held). Holds w.mu.
func (s *Stream) bufferOverflow(t abi.BufferType) {
	s.c.Bodies[t] = nil
	if t == abi.BufferRequestBody {
		s.localReply(&abi.LocalReply{Status: 413, Body: []byte("Payload Too Large"),
			Details: "request_payload_too_large", GRPCStatus: -1})
		return
	}
	s.resetLocked("buffer_limit")
}

// ContentLengthError is what strict mode records (as the stream's Trap and
// in Host.Trapped) when a body left the filter with a content-length header
// that disagrees with it: Envoy would send the header as is, and the peer
// would cut the body or wait for bytes that never come.
type ContentLengthError struct {
	// Direction is "request" (as it went upstream) or "response" (as it
	// went to the client).
	Direction     string
	ContentLength string
	BodyBytes     int
}

func (e *ContentLengthError) Error() string {
	return fmt.Sprintf("%s body of %d bytes sent with content-length: %s", e.Direction, e.BodyBytes, e.ContentLength)
}

// checkContentLength records a ContentLengthError in strict mode when
// headers carry a content-length other than len(body).
func (s *Stream) checkContentLength(direction string, headers [][2]string, body []byte) {
	if s.h.opts.Lenient {
		return
	}
	for _, kv := range headers {
		if kv[0] != "content-length" {
			continue
		}
		if n, err := strconv.ParseUint(kv[1], 10, 63); err != nil || n != uint64(len(body)) {
			err := &ContentLengthError{Direction: direction, ContentLength: kv[1], BodyBytes: len(body)}
			s.h.recordTrap(err)
			if s.res.Trap == nil {
				s.res.Trap = err
			}
		}
		return
	}
}

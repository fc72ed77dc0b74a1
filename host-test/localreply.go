package hosttest

import (
	"strconv"
	"strings"

	"github.com/nedry-chaos/nedry/host-test/internal/abi"
)

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
			out = append(out, [2]string{"grpc-message", grpcMessage(r.Body)})
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

// grpcMessage is body as Envoy's sendLocalReply puts it in grpc-message:
// percent-encoded (Http::Utility::PercentEncoding::encode with its default
// reserved set, "%"), so that any body makes a valid header value. A byte is
// encoded, as %XX with upper-case hex digits, when it is below a space, at
// or above '~' (Envoy compares a signed char: every byte from 0x80 up counts
// as below a space), or '%'. The gRPC spec (PROTOCOL-HTTP2.md, Responses)
// asks for the same set but for '~', which Envoy encodes too. Envoy strips
// a trailing newline only for a JSON local-reply body format, never for the
// text body a plugin sends, so neither does this.
func grpcMessage(body []byte) string {
	i := 0
	for i < len(body) && !grpcEscaped(body[i]) {
		i++
	}
	if i == len(body) {
		return string(body)
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, i, len(body)+16)
	copy(b, body)
	for _, c := range body[i:] {
		if grpcEscaped(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

func grpcEscaped(c byte) bool { return c < ' ' || c >= '~' || c == '%' }

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

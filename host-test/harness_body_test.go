package hosttest

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func chunks(parts ...string) [][]byte {
	out := make([][]byte, len(parts))
	for i, p := range parts {
		out[i] = []byte(p)
	}
	return out
}

// TestBody_chunks drives both bodies of a stream chunk by chunk through the
// bodychunks guest, as Envoy's filter manager hands them to a filter.
func TestBody_chunks(t *testing.T) {
	tests := []struct {
		name     string
		mode     string
		chunks   []string
		trailers bool
		wantUp   string // the request body the upstream gets
		wantLogs []string
	}{
		{"streamed chunk by chunk", "stream", []string{"ab", "cd", "e"}, false, "<ab><cd><e>", nil},
		{"one chunk", "buffer", []string{"abc"}, false, "[abc]", []string{"seen=3:abc"}},
		{"buffered: the last callback sees the whole body", "buffer", []string{"ab", "cd", "e"}, false, "[abcde]",
			[]string{"seen=5:abcde"}},
		{"start 0 drains length bytes and prepends", "drain", []string{"ab", "cd", "e"}, false, "XYcde",
			[]string{"seen=5:abcde"}},
		{"start inside the body is BadArgument", "middle", []string{"ab", "cd"}, false, "abcd",
			[]string{"seen=4:abcd", "middle status=2"}},
		{"trailers follow: no callback has end_of_stream, the buffer goes on", "buffer", []string{"ab", "cd"}, true, "abcd", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t, "bodychunks", Options{})
			r := Request{Headers: [][2]string{{"x-mode", tc.mode}}, Chunks: chunks(tc.chunks...),
				Response: &Response{Status: 200, Chunks: chunks(tc.chunks...)}}
			if tc.trailers {
				r.Trailers = [][2]string{{"x-t", "1"}}
				r.Response.Trailers = r.Trailers
			}
			res := h.Do(r)
			mustNoTrap(t, res)
			if res.Upstream == nil || string(res.Upstream.Body) != tc.wantUp {
				t.Fatalf("upstream body: have %+v, want %q", res.Upstream, tc.wantUp)
			}
			if res.Response == nil || string(res.Response.Body) != tc.wantUp {
				t.Fatalf("client body: have %+v, want %q", res.Response, tc.wantUp)
			}
			var logs []string
			for _, l := range res.Logs {
				logs = append(logs, l.Message)
			}
			// Each body logs once: request, then response.
			want := append(append([]string(nil), tc.wantLogs...), tc.wantLogs...)
			if strings.Join(logs, "|") != strings.Join(want, "|") {
				t.Fatalf("logs: have %q, want %q", logs, want)
			}
			n := len(tc.chunks)
			if tc.mode == "buffer" && !tc.trailers && countCallbacks(res, "proxy_on_request_body") != n {
				t.Fatalf("callbacks %v: want one proxy_on_request_body per chunk", res.Callbacks)
			}
		})
	}
}

func countCallbacks(r Result, name string) int {
	n := 0
	for _, c := range r.Callbacks {
		if c == name {
			n++
		}
	}
	return n
}

// TestBody_holdAtEndOfStream: Pause on the last chunk holds the stream
// until proxy_continue_stream; then the buffered body goes on.
func TestBody_holdAtEndOfStream(t *testing.T) {
	h := newHost(t, "bodychunks", Options{})
	s := h.Start(Request{Headers: [][2]string{{"x-mode", "hold"}}, Chunks: chunks("ab", "cd"),
		Response: &Response{Status: 200, Body: []byte("r")}})
	if !s.Paused() {
		t.Fatal("request not held after Pause at end_of_stream")
	}
	h.Advance(10 * time.Millisecond)
	if !s.Paused() {
		t.Fatal("response not held after Pause at end_of_stream")
	}
	h.Advance(10 * time.Millisecond)
	if !s.Done() {
		t.Fatal("stream not continued")
	}
	r := s.Result()
	mustNoTrap(t, r)
	if string(r.Upstream.Body) != "abcd" || string(r.Response.Body) != "r" {
		t.Fatalf("bodies: upstream %q, client %q", r.Upstream.Body, r.Response.Body)
	}
}

// TestBody_bufferLimit: a body buffered past the limit is answered as
// Envoy's filter manager does: 413 for a request (a local reply, which runs
// through the guest's response callbacks: the guest brackets its body), a
// reset for a response whose headers went downstream. A streamed body is
// never limited.
func TestBody_bufferLimit(t *testing.T) {
	big := chunks("0123456789", "0123456789", "0123456789")
	h := newHost(t, "bodychunks", Options{BufferLimit: 25})
	r := h.Do(Request{Headers: [][2]string{{"x-mode", "buffer"}}, Chunks: big})
	mustNoTrap(t, r)
	if r.Upstream != nil || r.LocalReply == nil || r.Response.Status != 413 ||
		r.LocalReply.Details != "request_payload_too_large" || string(r.Response.Body) != "[Payload Too Large]" {
		t.Fatalf("request over the limit: upstream %v, reply %+v, response %+v", r.Upstream, r.LocalReply, r.Response)
	}
	r = h.Do(Request{Headers: [][2]string{{"x-mode", "buffer"}}, Response: &Response{Status: 200, Chunks: big}})
	if !r.Reset || r.ResetBy != "buffer_limit" || r.Response != nil {
		t.Fatalf("response over the limit: reset %v by %q, response %+v", r.Reset, r.ResetBy, r.Response)
	}
	r = h.Do(Request{Headers: [][2]string{{"x-mode", "stream"}}, Chunks: big, Response: &Response{Status: 200, Chunks: big}})
	mustNoTrap(t, r)
	if len(r.Upstream.Body) != 36 || len(r.Response.Body) != 36 {
		t.Fatalf("streamed bodies: %d and %d bytes, want 36", len(r.Upstream.Body), len(r.Response.Body))
	}
	if r := h.Do(Request{Headers: [][2]string{{"x-mode", "buffer"}}, Chunks: chunks("0123456789", "0123456789")}); r.Upstream == nil || len(r.Upstream.Body) != 22 {
		t.Fatalf("under the limit: %+v", r.Upstream)
	}
}

// TestBody_contentLength: in strict mode a body that leaves the filter with
// a content-length that disagrees with it fails the stream loudly; a
// filter that removes the header at headers time passes.
func TestBody_contentLength(t *testing.T) {
	cl := func(n int) [][2]string { return [][2]string{{"content-length", strconv.Itoa(n)}} }
	for _, tc := range []struct {
		name, mode string
		lenient    bool
		want       string // the ContentLengthError, or "" for none
	}{
		{"header removed", "buffer", false, ""},
		{"stale header", "keep-length", false, "request body of 6 bytes sent with content-length: 4"},
		{"stale header, lenient", "keep-length", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t, "bodychunks", Options{Lenient: tc.lenient})
			r := h.Do(Request{Headers: append(cl(4), [2]string{"x-mode", tc.mode}), Chunks: chunks("ab", "cd"),
				Response: &Response{Status: 200, Headers: cl(2), Body: []byte("ok")}})
			var ce *ContentLengthError
			if tc.want == "" {
				mustNoTrap(t, r)
				if _, ok := r.Upstream.Header("content-length"); ok && !tc.lenient {
					t.Fatal("content-length reached the upstream")
				}
				return
			}
			if !errors.As(r.Trap, &ce) || ce.Error() != tc.want {
				t.Fatalf("trap: have %v, want %s", r.Trap, tc.want)
			}
			if len(h.Trapped()) == 0 {
				t.Fatal("host did not record the failure")
			}
		})
	}
	t.Run("response", func(t *testing.T) {
		h := newHost(t, "bodychunks", Options{})
		r := h.Do(Request{Headers: [][2]string{{"x-mode", "keep-length"}},
			Response: &Response{Status: 200, Headers: cl(2), Body: []byte("ok")}})
		var ce *ContentLengthError
		if !errors.As(r.Trap, &ce) || ce.Direction != "response" || ce.BodyBytes != 4 {
			t.Fatalf("trap: have %v, want a response content-length error", r.Trap)
		}
	})
}

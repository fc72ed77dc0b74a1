package hosttest

import (
	"reflect"
	"strconv"
	"testing"

	"github.com/nedry-chaos/nedry/host-test/internal/abi"
)

// The local-reply path hands slices over instead of copying them
// (localreply.go: localReply, resultReply, splitStatus). These tests pin what
// that must not change: what the result holds, and that no two parts of a
// result, nor two results, share memory a caller could write through.

func TestDecimal(t *testing.T) {
	for _, n := range []int{-1000, -1, 0, 7, 99, 100, 101, 200, 418, 503, 599, 998, 999, 1000, 1 << 20} {
		if have, want := decimal(n), strconv.Itoa(n); have != want {
			t.Fatalf("decimal(%d) = %q, want %q", n, have, want)
		}
	}
	for n := 100; n <= 999; n++ {
		if have, want := decimal(n), strconv.Itoa(n); have != want {
			t.Fatalf("decimal(%d) = %q, want %q", n, have, want)
		}
	}
}

func TestReplyResponsePairs(t *testing.T) {
	tests := []struct {
		name  string
		reply abi.LocalReply
		want  [][2]string
	}{
		{"plain without body", abi.LocalReply{Status: 503, GRPCStatus: -1},
			[][2]string{{":status", "503"}}},
		{"plain with body", abi.LocalReply{Status: 418, Body: []byte("teapot"), GRPCStatus: -1},
			[][2]string{{":status", "418"}, {"content-length", "6"}, {"content-type", "text/plain"}}},
		{"plain body of three-digit length", abi.LocalReply{Status: 500, Body: make([]byte, 120), GRPCStatus: -1},
			[][2]string{{":status", "500"}, {"content-length", "120"}, {"content-type", "text/plain"}}},
		{"status outside the table", abi.LocalReply{Status: 1042, GRPCStatus: -1},
			[][2]string{{":status", "1042"}}},
		{"grpc with message", abi.LocalReply{Status: 503, Body: []byte("chaos"), GRPCStatus: 14},
			[][2]string{{":status", "200"}, {"content-type", "application/grpc"}, {"grpc-status", "14"}, {"grpc-message", "chaos"}}},
		{"grpc message percent-encoded as Envoy does", abi.LocalReply{Status: 503, Body: []byte("a\nb\x00c 100% ~\x7f\xc3\xa9}\r"), GRPCStatus: 14},
			[][2]string{{":status", "200"}, {"content-type", "application/grpc"}, {"grpc-status", "14"},
				{"grpc-message", "a%0Ab%00c 100%25 %7E%7F%C3%A9}%0D"}}},
		{"grpc message of one byte to encode", abi.LocalReply{Status: 503, Body: []byte("%"), GRPCStatus: 2},
			[][2]string{{":status", "200"}, {"content-type", "application/grpc"}, {"grpc-status", "2"}, {"grpc-message", "%25"}}},
		{"grpc without message", abi.LocalReply{Status: 503, GRPCStatus: 0},
			[][2]string{{":status", "200"}, {"content-type", "application/grpc"}, {"grpc-status", "0"}}},
		{"plugin headers lowercased, their :status dropped", abi.LocalReply{Status: 403, GRPCStatus: -1,
			Headers: [][2]string{{"Retry-After", "1"}, {":Status", "200"}, {"x-a", "b"}}},
			[][2]string{{":status", "403"}, {"retry-after", "1"}, {"x-a", "b"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if have := replyResponsePairs(&tc.reply); !reflect.DeepEqual(have, tc.want) {
				t.Fatalf("replyResponsePairs = %q, want %q", have, tc.want)
			}
		})
	}
}

func TestSplitStatus(t *testing.T) {
	tests := []struct {
		name       string
		pairs      [][2]string
		wantStatus int
		want       [][2]string
		handedOver bool // the result is a subslice of pairs
	}{
		{"empty", nil, 0, nil, false},
		{"only :status", [][2]string{{":status", "503"}}, 503, nil, false},
		{"only another header", [][2]string{{"a", "1"}}, 0, [][2]string{{"a", "1"}}, false},
		{":status first", [][2]string{{":status", "403"}, {"a", "1"}, {"b", "2"}}, 403, [][2]string{{"a", "1"}, {"b", "2"}}, true},
		{":status later", [][2]string{{"a", "1"}, {":status", "404"}, {"b", "2"}}, 404, [][2]string{{"a", "1"}, {"b", "2"}}, false},
		{"no :status", [][2]string{{"a", "1"}, {"b", "2"}}, 0, [][2]string{{"a", "1"}, {"b", "2"}}, false},
		{"the last :status wins", [][2]string{{":status", "200"}, {"a", "1"}, {":status", "502"}}, 502, [][2]string{{"a", "1"}}, false},
		{"not a number", [][2]string{{":status", "abc"}, {"a", "1"}}, 0, [][2]string{{"a", "1"}}, true},
		{"nothing but :status", [][2]string{{":status", "200"}, {":status", "201"}}, 201, [][2]string{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, have := splitStatus(tc.pairs)
			if status != tc.wantStatus || !reflect.DeepEqual(have, tc.want) {
				t.Fatalf("splitStatus = %d, %q; want %d, %q", status, have, tc.wantStatus, tc.want)
			}
			if len(have) > 0 && cap(have) != len(have) {
				t.Fatalf("cap %d > len %d: an append would write into the map", cap(have), len(have))
			}
			if shared := len(have) > 0 && len(tc.pairs) > 1 && &have[0] == &tc.pairs[1]; shared != tc.handedOver {
				t.Fatalf("handed over = %t, want %t", shared, tc.handedOver)
			}
		})
	}
}

func TestLocalReply_resultsShareNoMemory(t *testing.T) {
	h := newHost(t, "stream", Options{})
	tests := []struct {
		name string
		req  Request
	}{
		{"plain", req("x-reply", "plain")},
		{"grpc", req("x-reply", "grpc")},
		{"from a tick", req("x-reply-later", "1")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first := h.Do(tc.req)
			mustNoTrap(t, first)
			if first.Response == nil || first.LocalReply == nil {
				t.Fatalf("no local reply: %+v", first)
			}
			resp, reply := cloneResponse(first.Response), cloneLocalReply(first.LocalReply)

			// Later streams on the same VM must not write into an earlier
			// result: results outlive their stream.
			for _, r := range []Request{tc.req, req("x-reply", "plain"), req("x-reply", "grpc"), req()} {
				mustNoTrap(t, h.Do(r))
			}
			if !reflect.DeepEqual(first.Response, resp) || !reflect.DeepEqual(first.LocalReply, reply) {
				t.Fatalf("a later stream changed the result:\nhave %+v %+v\nwant %+v %+v", first.Response, first.LocalReply, resp, reply)
			}

			// Writing one part of a result must leave the others alone.
			for i := range first.Response.Body {
				first.Response.Body[i] = '#'
			}
			for i := range first.Response.Headers {
				first.Response.Headers[i][1] = "#"
			}
			if !reflect.DeepEqual(first.LocalReply, reply) {
				t.Fatalf("writing Response changed LocalReply: have %+v, want %+v", first.LocalReply, reply)
			}
			for i := range first.LocalReply.Body {
				first.LocalReply.Body[i] = '%'
			}
			for i := range first.LocalReply.Headers {
				first.LocalReply.Headers[i][1] = "%"
			}
			for i := range resp.Body {
				resp.Body[i] = '#'
			}
			for i := range resp.Headers {
				resp.Headers[i][1] = "#"
			}
			if !reflect.DeepEqual(first.Response, resp) {
				t.Fatalf("writing LocalReply changed Response: have %+v, want %+v", first.Response, resp)
			}
		})
	}
}

func cloneResponse(r *Response) *Response {
	return &Response{Status: r.Status, Headers: clonePairsKeepNil(r.Headers), Body: cloneBytesKeepNil(r.Body),
		Trailers: clonePairsKeepNil(r.Trailers)}
}

func cloneLocalReply(r *LocalReply) *LocalReply {
	return &LocalReply{Status: r.Status, Body: cloneBytesKeepNil(r.Body), Headers: clonePairsKeepNil(r.Headers),
		Details: r.Details, GRPCStatus: r.GRPCStatus}
}

// cloneBytesKeepNil and clonePairsKeepNil copy, keeping nil and empty apart
// so DeepEqual compares like with like.
func cloneBytesKeepNil(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

func clonePairsKeepNil(p [][2]string) [][2]string {
	if p == nil {
		return nil
	}
	return append([][2]string{}, p...)
}

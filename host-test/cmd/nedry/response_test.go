package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// protocols are the two client protocols nedry run serves.
func protocols() map[string]*http.Client {
	return map[string]*http.Client{"http1": client(), "h2c": h2cClient()}
}

// TestRun_trailers: upstream trailers reach the client on both protocols,
// a small body included (over HTTP/1.1 they were dropped).
func TestRun_trailers(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "Grpc-Status, X-Checksum")
		io.WriteString(w, "small")
		w.Header().Set("Grpc-Status", "0")
		w.Header().Set("X-Checksum", "abc")
	}))
	defer up.Close()
	cfg := writeFile(t, t.TempDir(), "nedry.json", `{}`)
	n := startNedry(t, "--upstream", up.URL, "--config", cfg)
	for proto, c := range protocols() {
		t.Run(proto, func(t *testing.T) {
			resp, err := do(c, "GET", n.url("/t"), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || string(b) != "small" {
				t.Fatalf("body %q %v, want small", b, err)
			}
			if resp.Trailer.Get("grpc-status") != "0" || resp.Trailer.Get("x-checksum") != "abc" {
				t.Fatalf("trailers %v, want grpc-status 0 and x-checksum abc", resp.Trailer)
			}
		})
	}
}

// TestRun_bodylessResponses: 204 and 304 carry neither content nor
// Content-Length, and a HEAD response keeps the upstream's Content-Length
// without content (RFC 9110); over h2c a 204 with a content-length is a
// protocol error for curl.
func TestRun_bodylessResponses(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1234")
		if r.Method != http.MethodHead {
			io.WriteString(w, strings.Repeat("x", 1234))
		}
	}))
	defer up.Close()
	cfg := writeFile(t, t.TempDir(), "nedry.json", `{"rules": [
	  {"name": "nocontent", "match": {"prefix": "/abort204"}, "abort": {"percent": 100, "http_status": 204, "body": "dropped"}},
	  {"name": "op204", "match": {"prefix": "/op204"}, "corrupt": {"percent": 100, "response": [{"op": "status", "value": 204}]}},
	  {"name": "op304", "match": {"prefix": "/op304"}, "corrupt": {"percent": 100, "response": [{"op": "status", "value": 304}]}}
	]}`)
	n := startNedry(t, "--upstream", up.URL, "--config", cfg)
	tests := []struct {
		method, path string
		wantStatus   int
		wantLength   string
	}{
		{"GET", "/abort204", 204, ""},
		{"GET", "/op204", 204, ""},
		{"GET", "/op304", 304, ""},
		{"HEAD", "/head", 200, "1234"},
	}
	for proto, c := range protocols() {
		for _, tc := range tests {
			t.Run(proto+tc.path, func(t *testing.T) {
				status, h, body := get(t, c, tc.method, n.url(tc.path), nil)
				if status != tc.wantStatus || body != "" || h.Get("Content-Length") != tc.wantLength {
					t.Fatalf("have %d content-length %q body %q, want %d content-length %q and no body",
						status, h.Get("Content-Length"), body, tc.wantStatus, tc.wantLength)
				}
			})
		}
	}
}

// TestRun_grpcMessage: the grpc-message of a gRPC abort is percent-encoded
// as Envoy's sendLocalReply encodes it (the harness's local reply does it),
// so a body with a newline, a NUL or a % reaches the client as one valid
// header value on both protocols.
func TestRun_grpcMessage(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "nedry.json", `{"rules": [{"name": "g", "match": {"prefix": "/grpc."},
	  "abort": {"percent": 100, "http_status": 503, "grpc_status": 14, "body": "down\nfor 100%\u0000 ~é"}}]}`)
	n := startNedry(t, "--demo", "--config", cfg)
	for proto, c := range protocols() {
		t.Run(proto, func(t *testing.T) {
			status, h, _ := get(t, c, "POST", n.url("/grpc.health.v1.Health/Check"), map[string]string{"content-type": "application/grpc"})
			want := "down%0Afor 100%25%00 %7E%C3%A9"
			if status != 200 || h.Get("grpc-status") != "14" || h.Get("grpc-message") != want {
				t.Fatalf("have %d grpc-status %q grpc-message %q, want 200 14 %q", status, h.Get("grpc-status"), h.Get("grpc-message"), want)
			}
		})
	}
}

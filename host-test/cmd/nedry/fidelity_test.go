package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawRequest sends method to the proxy with target as its request target,
// byte for byte (url.URL would re-escape it), and returns the response.
func rawRequest(t *testing.T, c *http.Client, n *nedry, method, target string) (*http.Response, string) {
	t.Helper()
	p, q, hasQuery := strings.Cut(target, "?")
	req, err := http.NewRequest(method, n.url("/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(p, "//") {
		// Alone, //x would be taken for an authority: absolute form.
		p = "//" + n.addr + p
	}
	req.URL = &url.URL{Scheme: "http", Host: n.addr, Opaque: p, RawQuery: q, ForceQuery: hasQuery && q == ""}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, target, err)
	}
	return resp, string(b)
}

// rawUpstream is a loopback HTTP/1.1 upstream that reads requests itself,
// so it records the request head byte for byte (net/http's server refuses
// some targets Envoy forwards, and hides repeated Host lines), and answers
// each request 200 "ok". It sends every request head, request line first
// and without the final empty line, on the returned channel.
func rawUpstream(t *testing.T) (string, chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	heads := make(chan string, 16)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveRaw(conn, heads)
		}
	}()
	return "http://" + ln.Addr().String(), heads
}

func serveRaw(conn net.Conn, heads chan<- string) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	br := bufio.NewReader(conn)
	for {
		var head strings.Builder
		length := 0
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if line == "\r\n" {
				break
			}
			head.WriteString(line)
			if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "content-length") {
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		if _, err := io.CopyN(io.Discard, br, int64(length)); err != nil {
			return
		}
		heads <- head.String()
		if _, err := io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); err != nil {
			return
		}
	}
}

// requestLine is the first line of a recorded request head.
func requestLine(head string) string {
	line, _, _ := strings.Cut(head, "\r\n")
	return line
}

// TestRun_rawPath: the upstream sees exactly the :path the client sent, or
// the one a set :path op left, percent-encoding and all (issue: a%20b
// reached the upstream as a%2520b).
func TestRun_rawPath(t *testing.T) {
	up, heads := rawUpstream(t)
	// net/http's server refuses a request target with an invalid escape
	// (Envoy forwards it), so only an op can make one here.
	cfg := writeFile(t, t.TempDir(), "nedry.json", `{"rules": [
	  {"name": "bad", "match": {"prefix": "/setbad"},
	   "corrupt": {"percent": 100, "request": [{"op": "set", "name": ":path", "value": "/bad%zz%2F"}]}},
	  {"name": "dbl", "match": {"prefix": "/setdouble"},
	   "corrupt": {"percent": 100, "request": [{"op": "set", "name": ":path", "value": "//x/%zz?a=%20"}]}},
	  {"name": "p", "match": {"prefix": "/set"},
	  "corrupt": {"percent": 100, "request": [{"op": "set", "name": ":path", "value": "/new/a%20b%2Fc%41?q=%41%20&r=%2F"}]}}
	]}`)
	n := startNedry(t, "--upstream", up, "--config", cfg)
	tests := []struct{ sent, want string }{
		{"/files/a%20b%2Fc?q=%41", "/files/a%20b%2Fc?q=%41"},
		{"/%41/%2f%2F?x=%20&y=%zz", "/%41/%2f%2F?x=%20&y=%zz"},
		{"/setbad", "/bad%zz%2F"},
		// A // path that net/http cannot carry as it is in origin form
		// goes in absolute form, the path unchanged.
		{"/setdouble", "http://" + strings.TrimPrefix(up, "http://") + "//x/%zz?a=%20"},
		{"/empty-query?", "/empty-query?"},
		{"//double/%2F", "//double/%2F"},
		{"/set/anything%20", "/new/a%20b%2Fc%41?q=%41%20&r=%2F"},
	}
	for proto, c := range map[string]*http.Client{"http1": client(), "h2c": h2cClient()} {
		for _, tc := range tests {
			t.Run(proto+tc.sent, func(t *testing.T) {
				resp, body := rawRequest(t, c, n, "GET", tc.sent)
				if resp.StatusCode != 200 {
					t.Fatalf("have %d %q, want 200", resp.StatusCode, body)
				}
				if have, want := requestLine(<-heads), "GET "+tc.want+" HTTP/1.1"; have != want {
					t.Fatalf("upstream saw %q, want %q", have, tc.want)
				}
			})
		}
	}
}

// TestRun_routeRawPath: the route name comes from the raw :path, as Envoy's
// route table matches it (normalize_path false): /%61dmin is not /admin.
func TestRun_routeRawPath(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "nedry.json", `{"rules": [{"name": "a", "match": {"route_name": "adminr"},
	  "abort": {"percent": 100, "http_status": 403}}]}`)
	n := startNedry(t, "--demo", "--config", cfg, "--route", "adminr=/admin")
	tests := []struct {
		target string
		want   int
	}{
		{"/admin/x", 403},
		{"/%61dmin/x", 200},
		{"/admin%2Fx", 403},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			if resp, body := rawRequest(t, client(), n, "GET", tc.target); resp.StatusCode != tc.want {
				t.Fatalf("have %d %q, want %d", resp.StatusCode, body, tc.want)
			}
		})
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

func TestReadBody(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 100<<10)
	tests := []struct {
		name      string
		r         io.Reader
		size      int64
		limit     int64
		budget    int64
		wantLen   int
		wantCap   int
		wantErr   error
		wantTaken int64
	}{
		{"known size: one exact buffer", bytes.NewReader(body), int64(len(body)), 1 << 20, 4 << 20, len(body), len(body), nil, 4 * int64(len(body))},
		{"unknown size grows", iotest.HalfReader(bytes.NewReader(body)), -1, 1 << 20, 4 << 20, len(body), 128 << 10, nil, 4 * 128 << 10},
		{"unknown size capped at limit+1", bytes.NewReader(body), -1, 50 << 10, 4 << 20, 0, 0, errTooLarge, 4 * (50<<10 + 1)},
		{"known size over limit", bytes.NewReader(body), int64(len(body)), 1000, 4 << 20, 0, 0, errTooLarge, 0},
		{"over budget", bytes.NewReader(body), int64(len(body)), 1 << 20, 4000, 0, 0, errOverloaded, 0},
		{"over budget while growing", bytes.NewReader(body), -1, 1 << 20, 4 * 40 << 10, 0, 0, errOverloaded, 4 * 32 << 10},
		{"empty", bytes.NewReader(nil), -1, 1 << 20, 4 << 20, 0, 32 << 10, nil, 4 * 32 << 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &budget{limit: tc.budget}
			c := &charge{b: b}
			have, err := readBody(tc.r, tc.size, tc.limit, c, nil)
			if !errors.Is(err, tc.wantErr) || len(have) != tc.wantLen || cap(have) != tc.wantCap {
				t.Fatalf("have len %d cap %d, %v, want len %d cap %d, %v", len(have), cap(have), err, tc.wantLen, tc.wantCap, tc.wantErr)
			}
			if b.used.Load() != tc.wantTaken {
				t.Fatalf("budget used %d, want %d", b.used.Load(), tc.wantTaken)
			}
			c.release()
			if b.used.Load() != 0 {
				t.Fatalf("after release: budget used %d, want 0", b.used.Load())
			}
		})
	}
}

// TestForwarder_requestHead: the request the upstream gets carries no
// user-agent the client did not send (net/http adds Go-http-client/1.1),
// and a host header the filter left goes out next to the Host made from
// :authority, as Envoy's HTTP/1.1 codec writes both.
func TestForwarder_requestHead(t *testing.T) {
	up, heads := rawUpstream(t)
	f := newForwarder(mustURL(t, up), 10*time.Second, 1<<20)
	defer f.close()
	tests := []struct {
		name            string
		headers         [][2]string
		want, wantNoted []string
	}{
		{"no user-agent", [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "a.example"}},
			[]string{"Host: a.example\r\n"}, []string{"User-Agent"}},
		{"client's user-agent", [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "a.example"}, {"user-agent", "curl/8.5"}},
			[]string{"User-Agent: curl/8.5\r\n"}, []string{"Go-http-client"}},
		{"host header kept", [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "a.example"}, {"host", "b.example"}},
			[]string{"Host: a.example\r\n", "host: b.example\r\n"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := f.roundTrip(context.Background(), &hosttest.UpstreamRequest{Headers: tc.headers})
			if resp.Status != 200 {
				t.Fatalf("have %d %q, want 200", resp.Status, resp.Body)
			}
			head := <-heads
			for _, w := range tc.want {
				contains(t, "request head", head, w)
			}
			for _, w := range tc.wantNoted {
				if strings.Contains(head, w) {
					t.Fatalf("request head has %q:\n%s", w, head)
				}
			}
		})
	}
}

// slowPost sends the head of a POST with a 10-byte body and then feeds it
// one byte per tick, forever, on a raw HTTP/1.1 connection; it returns the
// status line and body nedry answered with.
func slowPost(t *testing.T, n *nedry, tick time.Duration) (string, string) {
	t.Helper()
	conn, err := net.Dial("tcp", n.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\na"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	if tick > 0 {
		go func() {
			tk := time.NewTicker(tick)
			defer tk.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tk.C:
					if _, err := io.WriteString(conn, "b"); err != nil {
						return
					}
				}
			}
		}()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.Status, string(b)
}

// TestRun_requestBodyTimeouts: a request body that stalls, or trickles in
// slower than --request-timeout allows, is answered 408 as Envoy answers
// its stream_idle_timeout and request_timeout; the client no longer holds
// the connection (and its buffer) for ever.
func TestRun_requestBodyTimeouts(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "nedry.json", `{}`)
	t.Run("idle", func(t *testing.T) {
		n := startNedry(t, "--demo", "--config", cfg, "--stream-idle-timeout", "200ms", "--request-timeout", "0")
		status, body := slowPost(t, n, 0)
		if status != "408 Request Timeout" || !strings.Contains(body, "no bytes for --stream-idle-timeout 200ms") {
			t.Fatalf("have %s %q, want 408 naming --stream-idle-timeout", status, body)
		}
	})
	t.Run("whole body", func(t *testing.T) {
		n := startNedry(t, "--demo", "--config", cfg, "--stream-idle-timeout", "10s", "--request-timeout", "300ms")
		// Ten bytes at one per 100ms take longer than 300ms.
		status, body := slowPost(t, n, 100*time.Millisecond)
		if status != "408 Request Timeout" || !strings.Contains(body, "not received within --request-timeout 300ms") {
			t.Fatalf("have %s %q, want 408 naming --request-timeout", status, body)
		}
	})
	t.Run("h2c idle", func(t *testing.T) {
		n := startNedry(t, "--demo", "--config", cfg, "--stream-idle-timeout", "200ms")
		pr, pw := io.Pipe()
		defer pw.Close()
		go pw.Write([]byte("a"))
		req, err := http.NewRequest("POST", n.url("/slow"), pr)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := h2cClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 408 || !strings.Contains(string(b), "--stream-idle-timeout") {
			t.Fatalf("have %d %q, want 408 naming --stream-idle-timeout", resp.StatusCode, b)
		}
	})
}

// TestRun_maxBuffered: bodies held by requests in flight count against
// --max-buffered; one more that does not fit is answered 503 at once, one
// that fits goes through.
func TestRun_maxBuffered(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "nedry.json", `{"rules": [{"name": "hold", "match": {"prefix": "/hold"}, "delay": {"percent": 100, "fixed": "1h"}}]}`)
	// The held request takes 4 × 1000 of 6000 bytes: another 1000 do not
	// fit, 100 do.
	n := startNedry(t, "--demo", "--config", cfg, "--max-body", "1000", "--max-buffered", "6000")
	ctx, cancel := context.WithCancel(context.Background())
	held := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "POST", n.url("/hold"), strings.NewReader(strings.Repeat("h", 1000)))
		resp, err := client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		held <- err
	}()
	waitMetric(t, n, "nedry.active_faults: 1\n")
	resp, err := do(client(), "POST", n.url("/big"), nil, bytes.Repeat([]byte("b"), 1000))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || string(b) != "nedry: overloaded: buffered bodies at --max-buffered 6000 bytes\n" {
		t.Fatalf("have %d %q, want 503 overloaded", resp.StatusCode, b)
	}
	resp, err = do(client(), "POST", n.url("/small"), nil, bytes.Repeat([]byte("s"), 100))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("a body that fits: have %d, want 200", resp.StatusCode)
	}
	cancel()
	<-held
}

// TestRun_maxConnections: past --max-connections open connections a new
// one is closed at once (Envoy's downstream connection overflow), and a
// place freed by a closed connection is used again.
func TestRun_maxConnections(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "nedry.json", `{}`)
	n := startNedry(t, "--demo", "--config", cfg, "--max-connections", "1")
	first, err := net.Dial("tcp", n.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	_ = first.SetDeadline(time.Now().Add(20 * time.Second))
	// A full exchange: the first connection is accepted and stays open.
	io.WriteString(first, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(first), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("first connection: %v %v", resp, err)
	}
	resp.Body.Close()

	second, err := net.Dial("tcp", n.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	_ = second.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(second, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if b, err := io.ReadAll(second); len(b) != 0 || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("second connection: read %q %v, want it closed unanswered", b, err)
	}
	n.stderr.waitFor(t, 0, regexpQuote("--max-connections 1 reached: closed 1 new connection(s)"), 10*time.Second)

	first.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		status, _, err := func() (int, string, error) {
			resp, err := c.Get(n.url("/"))
			if err != nil {
				return 0, "", err
			}
			defer resp.Body.Close()
			return resp.StatusCode, "", nil
		}()
		if err == nil && status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the freed place was never used again: %d %v", status, err)
		}
		// The server frees the place once it sees the close.
		time.Sleep(5 * time.Millisecond)
	}
}

package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// exitBound is how soon an idle nedry run must exit on SIGINT: less than
// the waits shutdown used to sit out for connections carrying no request
// (Go's HTTP/2 server lingers a second after its GOAWAY; a connection that
// sent nothing counts as busy until it is 5 s old).
const exitBound = 900 * time.Millisecond

// waitExit cancels n as SIGINT does and fails unless it exits within
// bound; it returns the exit status.
func waitExit(t *testing.T, n *nedry, bound time.Duration) int {
	t.Helper()
	n.cancel()
	select {
	case <-n.exited:
		return n.code
	case <-time.After(bound):
		t.Fatalf("nedry run did not exit within %s of SIGINT", bound)
		return -1
	}
}

// An idle nedry run exits at once on SIGINT, whatever idle connections its
// clients keep: an h2c connection whose request is done, an HTTP/1.1
// keep-alive one, one that connected and sent nothing.
func TestRun_idleExitsPromptly(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "nedry.json", `{"rules": []}`)
	tests := []struct {
		name string
		idle func(t *testing.T, n *nedry) // leaves one idle connection open
	}{
		{"idle h2c connection", func(t *testing.T, n *nedry) {
			if st, _, _ := get(t, h2cClient(), "GET", n.url("/x"), nil); st != 200 {
				t.Fatalf("status %d", st)
			}
		}},
		{"idle HTTP/1.1 connection", func(t *testing.T, n *nedry) {
			if st, _, _ := get(t, client(), "GET", n.url("/x"), nil); st != 200 {
				t.Fatalf("status %d", st)
			}
		}},
		{"connection that sent nothing", func(t *testing.T, n *nedry) {
			c, err := net.Dial("tcp", n.addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := startNedry(t, "--demo", "--config", cfg)
			tt.idle(t, n)
			if code := waitExit(t, n, exitBound); code != 0 {
				t.Fatalf("exit %d, want 0", code)
			}
		})
	}
}

// Closing quiet connections early never cuts a request in flight: an h2c
// request still at the upstream when SIGINT comes gets its whole response,
// and nedry exits once it is done.
func TestRun_shutdownFinishesInFlightH2C(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		io.WriteString(w, strings.Repeat("x", 100_000))
	}))
	defer up.Close()
	cfg := writeFile(t, t.TempDir(), "nedry.json", `{"rules": []}`)
	n := startNedry(t, "--upstream", up.URL, "--config", cfg)
	type answer struct {
		status int
		body   string
		err    error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := h2cClient().Get(n.url("/slow"))
		if err != nil {
			got <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- answer{resp.StatusCode, string(b), err}
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the request never reached the upstream")
	}
	n.cancel()
	// The connection is busy: shutdown must not close it, however long
	// the request stays in flight past quietAfter.
	time.AfterFunc(4*quietAfter, func() { close(release) })
	select {
	case a := <-got:
		if a.err != nil || a.status != 200 || len(a.body) != 100_000 {
			t.Fatalf("status %d, %d body bytes, %v; want 200 and 100000", a.status, len(a.body), a.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer within 10s")
	}
	select {
	case <-n.exited:
	case <-time.After(exitBound):
		t.Fatalf("nedry run did not exit within %s of its last request", exitBound)
	}
}

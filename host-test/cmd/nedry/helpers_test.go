package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// wasmFile returns the path of build/nedry.wasm, failing (never skipping)
// when it has not been built.
func wasmFile(t testing.TB) string {
	t.Helper()
	p := hosttest.RepoPath("build", "nedry.wasm")
	if _, err := hosttest.LoadFile(p); err != nil {
		t.Fatalf("%v", err)
	}
	return p
}

// output is a goroutine-safe writer whose content tests wait on.
type output struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newOutput() *output { return &output{changed: make(chan struct{})} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, err := o.buf.Write(p)
	close(o.changed)
	o.changed = make(chan struct{})
	return n, err
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// waitFor blocks until re matches the output (starting at byte from), or
// fails the test after timeout. It returns the match's submatches and the
// output length after the match, to wait for a later line next.
func (o *output) waitFor(t testing.TB, from int, re *regexp.Regexp, timeout time.Duration) ([]string, int) {
	t.Helper()
	return o.waitUntil(t, from, re, timeout, nil)
}

// waitUntil is waitFor that also gives up when stop is closed (the command
// exited, so no more output will come).
func (o *output) waitUntil(t testing.TB, from int, re *regexp.Regexp, timeout time.Duration, stop <-chan struct{}) ([]string, int) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		o.mu.Lock()
		s := o.buf.String()
		ch := o.changed
		o.mu.Unlock()
		if from <= len(s) {
			if loc := re.FindStringSubmatchIndex(s[from:]); loc != nil {
				m := make([]string, 0, len(loc)/2)
				for i := 0; i < len(loc); i += 2 {
					if loc[i] < 0 {
						m = append(m, "")
						continue
					}
					m = append(m, s[from+loc[i]:from+loc[i+1]])
				}
				return m, from + loc[1]
			}
		}
		select {
		case <-ch:
		case <-stop:
			t.Fatalf("command exited without output matching %q; output:\n%s", re, s)
		case <-deadline.C:
			t.Fatalf("no output matching %q within %s; output:\n%s", re, timeout, s)
		}
	}
}

// nedry is one `nedry run` started in process by a test.
type nedry struct {
	addr, admin    string
	stdout, stderr *output
	cancel         context.CancelFunc
	exited         chan struct{} // closed when run returned
	code           int           // run's result, valid once exited is closed
}

var (
	listenRE = regexp.MustCompile(`listening on http://(\S+)`)
	adminRE  = regexp.MustCompile(`admin on http://(\S+)`)
)

// startNedry runs `nedry run` with args (plus free loopback ports for the
// proxy and admin, and the built filter) until the test ends.
func startNedry(t testing.TB, args ...string) *nedry {
	t.Helper()
	all := append([]string{"run", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--wasm", wasmFile(t),
		"--workers", "2", "--watch-interval", "20ms", "--shutdown-timeout", "5s"}, args...)
	ctx, cancel := context.WithCancel(context.Background())
	n := &nedry{stdout: newOutput(), stderr: newOutput(), cancel: cancel, exited: make(chan struct{})}
	go func() {
		n.code = run(ctx, all, n.stdout, n.stderr)
		close(n.exited)
	}()
	t.Cleanup(func() { n.stop(t) })
	m, _ := n.stdout.waitUntil(t, 0, listenRE, 60*time.Second, n.exited)
	n.addr = m[1]
	if m := adminRE.FindStringSubmatch(n.stdout.String()); m != nil {
		n.admin = m[1]
	}
	return n
}

// stop ends nedry as SIGINT would and returns its exit status.
func (n *nedry) stop(t testing.TB) int {
	t.Helper()
	n.cancel()
	select {
	case <-n.exited:
		return n.code
	case <-time.After(20 * time.Second):
		t.Errorf("nedry run did not stop within 20s")
		return -1
	}
}

// url is the proxy URL of path.
func (n *nedry) url(path string) string { return "http://" + n.addr + path }

// writeFile writes content into dir/name and returns the path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// replaceFile replaces path the way editors save: write aside, rename.
func replaceFile(t testing.TB, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// client is an HTTP/1.1 client with bounded waits.
func client() *http.Client {
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}

// h2cClient speaks HTTP/2 without TLS (prior knowledge).
func h2cClient() *http.Client {
	tr := &http.Transport{}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Timeout: 20 * time.Second, Transport: tr}
}

// get sends one request and returns status, headers and body, failing the
// test on a transport error.
func get(t testing.TB, c *http.Client, method, url string, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	resp, err := do(c, method, url, hdr, nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func do(c *http.Client, method, url string, hdr map[string]string, body []byte) (*http.Response, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return c.Do(req)
}

// freeClosedPort returns a loopback address nothing listens on.
func freeClosedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func contains(t testing.TB, what, s, want string) {
	t.Helper()
	if !strings.Contains(s, want) {
		t.Fatalf("%s: want it to contain %q, have:\n%s", what, want, s)
	}
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// regexpQuote matches s literally.
func regexpQuote(s string) *regexp.Regexp { return regexp.MustCompile(regexp.QuoteMeta(s)) }

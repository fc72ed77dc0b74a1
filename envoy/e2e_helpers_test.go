//go:build e2e

// Helpers of the real-Envoy end-to-end test: the test upstream, starting
// Envoy, and reaching its proxy and admin ports.

package envoy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// upstream is the in-test backend: it echoes what it received and records
// each request's authorization header by path.
type upstream struct {
	srv  *httptest.Server
	port uint32

	mu   sync.Mutex
	auth map[string]string
	hits map[string]int
}

func startUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{auth: map[string]string{}, hits: map[string]int{}}
	u.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.auth[r.URL.Path] = r.Header.Get("Authorization")
		u.hits[r.URL.Path]++
		u.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "upstream: %s %s\n", r.Method, r.URL.Path)
	}))
	u.srv.Config.ReadHeaderTimeout = 10 * time.Second
	u.srv.Start()
	t.Cleanup(u.srv.Close)
	u.port = uint32(u.srv.Listener.Addr().(*net.TCPAddr).Port)
	return u
}

func (u *upstream) seen(path string) (auth string, hits int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.auth[path], u.hits[path]
}

// syncBuffer collects Envoy's output for the failure log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startEnvoy runs Envoy on cfg, bounded by envoyLifetime, and waits for the
// admin /ready endpoint. Envoy's output is logged if the test fails.
func startEnvoy(t *testing.T, bin, cfg string, p ports) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), envoyLifetime)
	cmd := exec.CommandContext(ctx, bin, "-c", cfg,
		"--disable-hot-restart", "--concurrency", "2",
		"--log-level", "warn", "--component-log-level", "wasm:info,config:info")
	cmd.Dir = filepath.Dir(cfg)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start envoy: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("envoy output:\n%s", out.String())
		}
	})

	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("envoy exited before ready: %v", err)
		default:
		}
		if body, code, err := get(adminURL(p, "/ready")); err == nil && code == http.StatusOK {
			if strings.TrimSpace(body) != "LIVE" {
				t.Fatalf("/ready: want LIVE, have %q", body)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("envoy not ready after %v", readyTimeout)
		}
		time.Sleep(pollInterval)
	}
}

var client = &http.Client{Timeout: 15 * time.Second}

func adminURL(p ports, path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(int(p.admin)) + path
}

func proxyURL(p ports, path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(int(p.listener)) + path
}

func get(url string) (string, int, error) {
	resp, err := client.Get(url)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode, err
}

// do sends one request through Envoy and returns the response with its body
// read, and how long it took.
func do(t *testing.T, p ports, path string, header map[string]string) (*http.Response, string, time.Duration) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, proxyURL(p, path), nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", path, err)
	}
	return resp, string(b), time.Since(start)
}

// counter reads the admin /stats counter whose name ends in suffix (Envoy
// may or may not show the wasmcustom. prefix); -1 when absent.
func counter(t *testing.T, p ports, suffix string) int {
	t.Helper()
	body, code, err := get(adminURL(p, "/stats"))
	if err != nil || code != http.StatusOK {
		t.Fatalf("admin /stats: %d %v", code, err)
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ": ")
		if !ok || !strings.HasSuffix(name, suffix) {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil {
			t.Fatalf("stat %s: value %q", name, value)
		}
		return n
	}
	return -1
}

// eventually polls cond until it holds or pollTimeout passes.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(pollTimeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v; last state: %s", what, pollTimeout, state)
		}
		time.Sleep(pollInterval)
	}
}

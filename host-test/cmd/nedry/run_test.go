package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// faultsConfig has one rule per fault kind, each on its own path prefix or
// route, all at 100% so every request shows its fault.
const faultsConfig = `{
  "response_header": "x-nedry-fault",
  "rules": [
    {"name": "payments", "match": {"route_name": "payments"},
     "abort": {"percent": 100, "http_status": 418, "body": "route payments"}},
    {"name": "abort", "match": {"prefix": "/abort"},
     "abort": {"percent": 100, "http_status": 503, "body": "injected abort", "headers": {"retry-after": "7"}}},
    {"name": "grpc", "match": {"prefix": "/grpc."},
     "abort": {"percent": 100, "http_status": 503, "grpc_status": 14}},
    {"name": "delay", "match": {"prefix": "/delay"},
     "delay": {"percent": 100, "fixed": "150ms"}},
    {"name": "corrupt-req", "match": {"prefix": "/corrupt-req"},
     "corrupt": {"percent": 100, "request": [{"op": "set", "name": "x-chaos", "value": "corrupted"}, {"op": "remove", "name": "authorization"}]}},
    {"name": "corrupt-resp", "match": {"prefix": "/corrupt-resp"},
     "corrupt": {"percent": 100, "response": [{"op": "set", "name": "content-type", "value": "text/x-nedry"}]}},
    {"name": "reset", "match": {"prefix": "/reset"},
     "reset": {"percent": 100}}
  ]
}`

// echo decodes a demo upstream answer.
func echo(t *testing.T, body string) demoEcho {
	t.Helper()
	var e demoEcho
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("demo upstream answer is not its JSON echo: %v\n%s", err, body)
	}
	return e
}

func TestRun_faults(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "nedry.json", faultsConfig)
	n := startNedry(t, "--demo", "--config", cfg, "--route", "payments=/pay")
	out := n.stdout.String()
	for _, want := range []string{
		"wasm ", "2 workers",
		"config " + cfg + ": 7 rules (payments: abort 100%",
		"routes: payments=/pay, default (catch-all)",
		"upstream demo",
	} {
		contains(t, "startup output", out, want)
	}

	clients := map[string]*http.Client{"http1": client(), "h2c": h2cClient()}
	for proto, c := range clients {
		t.Run(proto, func(t *testing.T) {
			t.Run("pass", func(t *testing.T) {
				status, h, body := get(t, c, "GET", n.url("/hello?x=1"), map[string]string{"x-chaos": "original"})
				if status != 200 || h.Get("x-nedry-fault") != "" {
					t.Fatalf("have %d (x-nedry-fault %q), want 200 untouched", status, h.Get("x-nedry-fault"))
				}
				e := echo(t, body)
				if e.Method != "GET" || e.Path != "/hello?x=1" || e.Headers["x-chaos"][0] != "original" || len(e.Headers["x-request-id"]) != 1 {
					t.Fatalf("upstream saw %+v", e)
				}
			})
			t.Run("abort", func(t *testing.T) {
				status, h, body := get(t, c, "GET", n.url("/abort/x"), nil)
				if status != 503 || !strings.Contains(body, "injected abort") || h.Get("retry-after") != "7" {
					t.Fatalf("have %d %q retry-after %q, want 503 \"injected abort\" retry-after 7", status, body, h.Get("retry-after"))
				}
				if !strings.Contains(h.Get("x-nedry-fault"), "abort") {
					t.Fatalf("x-nedry-fault %q, want it to name the abort rule", h.Get("x-nedry-fault"))
				}
			})
			t.Run("route_name", func(t *testing.T) {
				status, _, body := get(t, c, "POST", n.url("/pay/now"), nil)
				if status != 418 || !strings.Contains(body, "route payments") {
					t.Fatalf("have %d %q, want the payments route's 418", status, body)
				}
			})
			t.Run("grpc_abort", func(t *testing.T) {
				status, h, _ := get(t, c, "POST", n.url("/grpc.health.v1.Health/Check"), map[string]string{"content-type": "application/grpc"})
				if status != 200 || h.Get("grpc-status") != "14" {
					t.Fatalf("have %d grpc-status %q, want 200 grpc-status 14", status, h.Get("grpc-status"))
				}
			})
			t.Run("delay", func(t *testing.T) {
				start := time.Now()
				status, _, body := get(t, c, "GET", n.url("/delay"), nil)
				// A lower bound only: the proxy holds the request at least the
				// configured delay, however loaded the machine is.
				if took := time.Since(start); status != 200 || took < 150*time.Millisecond {
					t.Fatalf("have %d after %s, want 200 after at least 150ms", status, took)
				}
				echo(t, body)
			})
			t.Run("corrupt_request", func(t *testing.T) {
				_, _, body := get(t, c, "GET", n.url("/corrupt-req"), map[string]string{"x-chaos": "original", "authorization": "Bearer secret"})
				e := echo(t, body)
				if got := e.Headers["x-chaos"]; len(got) != 1 || got[0] != "corrupted" {
					t.Fatalf("upstream saw x-chaos %q, want [corrupted]", got)
				}
				if got, ok := e.Headers["authorization"]; ok {
					t.Fatalf("upstream saw authorization %q, want it removed", got)
				}
			})
			t.Run("corrupt_response", func(t *testing.T) {
				status, h, body := get(t, c, "GET", n.url("/corrupt-resp"), nil)
				if status != 200 || h.Get("content-type") != "text/x-nedry" {
					t.Fatalf("have %d content-type %q, want 200 text/x-nedry", status, h.Get("content-type"))
				}
				echo(t, body)
			})
			t.Run("reset", func(t *testing.T) {
				// POST: net/http retries an idempotent request whose reused
				// connection was reset, which would count a second reset.
				resp, err := do(c, "POST", n.url("/reset"), nil, nil)
				if err == nil {
					resp.Body.Close()
					t.Fatalf("have %d, want the stream reset", resp.StatusCode)
				}
				if proto == "h2c" && !strings.Contains(err.Error(), "stream error") {
					t.Fatalf("have %v, want an HTTP/2 stream reset", err)
				}
				// The proxy keeps serving after a reset, on the same client.
				if status, _, _ := get(t, c, "GET", n.url("/hello"), nil); status != 200 {
					t.Fatalf("after a reset: have %d, want 200", status)
				}
			})
		})
	}

	t.Run("stats", func(t *testing.T) {
		status, _, body := get(t, client(), "GET", "http://"+n.admin+"/stats", nil)
		if status != 200 {
			t.Fatalf("/stats: %d", status)
		}
		for _, want := range []string{
			"nedry.rule.abort.aborts_injected: 2\n",
			"nedry.rule.delay.delays_injected: 2\n",
			"nedry.rule.reset.resets_injected: 2\n",
			"nedry.rule.corrupt-req.corruptions_injected: 2\n",
		} {
			contains(t, "/stats", body, want)
		}
		lines := strings.Split(strings.TrimSpace(body), "\n")
		for i := 1; i < len(lines); i++ {
			if lines[i-1] > lines[i] {
				t.Fatalf("/stats not sorted: %q before %q", lines[i-1], lines[i])
			}
		}
		_, h, prom := get(t, client(), "GET", "http://"+n.admin+"/stats/prometheus", nil)
		contains(t, "/stats/prometheus content type", h.Get("content-type"), "text/plain; version=0.0.4")
		contains(t, "/stats/prometheus", prom, "# TYPE nedry_rule_aborts_injected counter\n")
		contains(t, "/stats/prometheus", prom, `nedry_rule_aborts_injected{nedry_rule="abort"} 2`+"\n")
		contains(t, "/stats/prometheus", prom, `nedry_rule_corruptions_injected{nedry_rule="corrupt-req"} 2`+"\n")
		status, _, body = get(t, client(), "GET", "http://"+n.admin+"/ready", nil)
		if status != 200 || body != "LIVE\n" {
			t.Fatalf("/ready: have %d %q, want 200 LIVE", status, body)
		}
	})
	t.Run("summary_line", func(t *testing.T) {
		n.stdout.waitFor(t, 0, regexp.MustCompile(`faults in the last 1s: .*aborts`), 10*time.Second)
	})
	if code := n.stop(t); code != 0 {
		t.Fatalf("exit status %d, want 0; stderr:\n%s", code, n.stderr)
	}
}

func TestRun_configPush(t *testing.T) {
	dir := t.TempDir()
	abort := func(status int) string {
		return `{"rules": [{"name": "a", "match": {"prefix": "/x"}, "abort": {"percent": 100, "http_status": ` + strconv.Itoa(status) + `}}]}`
	}
	cfg := writeFile(t, dir, "nedry.json", abort(503))
	n := startNedry(t, "--demo", "--config", cfg)
	c := client()
	if status, _, _ := get(t, c, "GET", n.url("/x"), nil); status != 503 {
		t.Fatalf("before the push: have %d, want 503", status)
	}

	replaceFile(t, cfg, abort(429))
	_, off := n.stdout.waitFor(t, 0, regexp.MustCompile(`config .*nedry.json reloaded: 1 rule \(a: abort 100%\)`), 10*time.Second)
	if status, _, _ := get(t, c, "GET", n.url("/x"), nil); status != 429 {
		t.Fatalf("after the push: have %d, want 429", status)
	}

	// A broken edit: every error is printed with its JSON path, and the
	// previous configuration keeps serving.
	replaceFile(t, cfg, `{"rules": [{"name": "a", "match": {"prefix": "/x"}, "abort": {"percent": 100, "http_status": 700}, "delya": {}}]}`)
	for _, want := range []string{
		"nedry.json: change refused, previous configuration keeps serving\n",
		"nedry.json: invalid configuration: rules[0] (a).abort.http_status: must be in [200, 599], got 700\n",
		"nedry.json: invalid configuration: rules[0] (a).delya: unknown field\n",
	} {
		n.stderr.waitFor(t, 0, regexp.MustCompile(regexp.QuoteMeta(want)), 10*time.Second)
	}
	if status, _, _ := get(t, c, "GET", n.url("/x"), nil); status != 429 {
		t.Fatalf("after the refused push: have %d, want the previous 429", status)
	}

	// A good edit after a refused one is applied.
	replaceFile(t, cfg, abort(502))
	n.stdout.waitFor(t, off, regexp.MustCompile(`reloaded: 1 rule`), 10*time.Second)
	if status, _, _ := get(t, c, "GET", n.url("/x"), nil); status != 502 {
		t.Fatalf("after the fixed push: have %d, want 502", status)
	}
}

func TestRun_upstream(t *testing.T) {
	type seen struct {
		method, uri, host, header, body string
	}
	got := make(chan seen, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.RequestURI, r.Host, r.Header.Get("x-chaos"), string(b)}
		w.Header().Set("x-upstream", "yes")
		w.WriteHeader(201)
		io.WriteString(w, "created")
	}))
	defer up.Close()
	cfg := writeFile(t, t.TempDir(), "nedry.json", `{"rules": [{"name": "c", "match": {"prefix": "/c"},
	  "corrupt": {"percent": 100, "request": [{"op": "set", "name": "x-chaos", "value": "changed"}]}}]}`)
	n := startNedry(t, "--upstream", up.URL, "--config", cfg)
	contains(t, "startup", n.stdout.String(), "upstream "+up.URL)

	resp, err := do(client(), "PUT", n.url("/c/item?q=1"), map[string]string{"x-chaos": "sent"}, []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || string(body) != "created" || resp.Header.Get("x-upstream") != "yes" {
		t.Fatalf("have %d %q x-upstream %q, want the upstream's 201 created", resp.StatusCode, body, resp.Header.Get("x-upstream"))
	}
	want := seen{"PUT", "/c/item?q=1", n.addr, "changed", "payload"}
	if s := <-got; s != want {
		t.Fatalf("upstream saw %+v, want %+v", s, want)
	}
}

func TestRun_upstreamDown(t *testing.T) {
	dead := freeClosedPort(t)
	cfg := writeFile(t, t.TempDir(), "nedry.json", `{}`)
	n := startNedry(t, "--upstream", "http://"+dead, "--config", cfg, "--upstream-timeout", "5s")
	status, _, body := get(t, client(), "GET", n.url("/"), nil)
	want := "nedry: upstream " + dead + " unreachable: connection refused\n"
	if status != 502 || body != want {
		t.Fatalf("have %d %q, want 502 %q", status, body, want)
	}
}

func TestRun_upstreamTimeout(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer up.Close()
	defer close(release)
	cfg := writeFile(t, t.TempDir(), "nedry.json", `{}`)
	n := startNedry(t, "--upstream", up.URL, "--config", cfg, "--upstream-timeout", "200ms")
	status, _, body := get(t, client(), "GET", n.url("/slow"), nil)
	if status != 504 || !strings.Contains(body, "timed out after 200ms") {
		t.Fatalf("have %d %q, want 504 timed out", status, body)
	}
}

func TestRun_startupErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.json", `{}`)
	bad := writeFile(t, dir, "bad.json", `{"rules": [{"name": "x", "abort": {"percent": 300, "http_status": 503}}]}`)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	wasm := wasmFile(t)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr []string
	}{
		{"port in use", []string{"--demo", "--config", good, "--listen", busy.Addr().String()},
			1, []string{"nedry: error: listen address " + busy.Addr().String() + ": already in use\n"}},
		{"admin port in use", []string{"--demo", "--config", good, "--admin", busy.Addr().String()},
			1, []string{"admin address " + busy.Addr().String() + ": already in use"}},
		{"invalid config", []string{"--demo", "--config", bad},
			1, []string{bad + ": configuration refused, not starting", bad + ": invalid configuration: rules[0] (x).abort.percent: must be in [0, 100], got 300\n"}},
		{"missing config", []string{"--demo", "--config", dir + "/nope.json"},
			1, []string{"nope.json: read config: open", "no such file"}},
		{"missing wasm", []string{"--demo", "--config", good, "--wasm", dir + "/nedry.wasm"},
			1, []string{"nedry: error: --wasm " + dir + "/nedry.wasm: no such file\n"}},
		{"no upstream", []string{"--config", good}, 2, []string{"give exactly one of --upstream URL and --demo"}},
		{"bad route", []string{"--demo", "--config", good, "--route", "pay"}, 1, []string{`"pay": want NAME=PREFIX`}},
		{"bad upstream", []string{"--upstream", "ftp://x", "--config", good}, 1, []string{"want an http:// or https:// URL"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"run", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--wasm", wasm}, tc.args...)
			stdout, stderr := newOutput(), newOutput()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			code := run(ctx, args, stdout, stderr)
			if code != tc.wantCode {
				t.Fatalf("exit status %d, want %d; stdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout, stderr)
			}
			for _, w := range tc.wantStderr {
				contains(t, "stderr", stderr.String(), w)
			}
			if strings.Contains(stdout.String(), "listening on") {
				t.Fatalf("it listened anyway:\n%s", stdout)
			}
		})
	}
}

func TestRun_gracefulShutdown(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "nedry.json", `{"rules": [{"name": "slow", "match": {"prefix": "/slow"}, "delay": {"percent": 100, "fixed": "300ms"}}]}`)
	n := startNedry(t, "--demo", "--config", cfg)
	type result struct {
		status int
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := do(client(), "GET", n.url("/slow"), nil, nil)
		if err != nil {
			res <- result{0, err}
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		res <- result{resp.StatusCode, nil}
	}()
	// Stop only once the request is held by the delay.
	waitMetric(t, n, "nedry.active_faults: 1\n")
	if code := n.stop(t); code != 0 {
		t.Fatalf("exit status %d, want 0; stderr:\n%s", code, n.stderr)
	}
	if r := <-res; r.err != nil || r.status != 200 {
		t.Fatalf("in-flight request: have %d %v, want it finished with 200", r.status, r.err)
	}
	contains(t, "shutdown output", n.stdout.String(), "shutting down: waiting up to 5s for in-flight requests")
}

// waitMetric polls /stats until it contains want, for at most 10s.
func waitMetric(t *testing.T, n *nedry, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, _, body := get(t, client(), "GET", "http://"+n.admin+"/stats", nil)
		if strings.Contains(body, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/stats never showed %q; last:\n%s", want, body)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRun_clientGoneDuringDelay: a client that gives up while a delay holds
// its request resets the stream, as a downstream reset does in Envoy, so the
// held stream is released at once instead of at the end of the delay.
func TestRun_clientGoneDuringDelay(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "nedry.json", `{"rules": [{"name": "slow", "match": {"prefix": "/slow"}, "delay": {"percent": 100, "fixed": "1h"}}]}`)
	n := startNedry(t, "--demo", "--config", cfg)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", n.url("/slow"), nil)
		resp, err := client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	waitMetric(t, n, "nedry.active_faults: 1\n")
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("client: have %v, want context.Canceled", err)
	}
	waitMetric(t, n, "nedry.active_faults: 0\n")
	// A one-hour delay must not hold shutdown either.
	if code := n.stop(t); code != 0 {
		t.Fatalf("exit status %d, want 0; stderr:\n%s", code, n.stderr)
	}
}

package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// seen is one request an upstream of these tests received.
type seen struct {
	method, path, copy, status, body string
}

// recordingUpstream answers "hello from NAME" and sends each request it
// gets on the returned channel; a call (x-copy: 1, the httpcall guest's
// mark) to /hang is answered only once the request ends (its client went
// away), which it says on hung.
func recordingUpstream(t *testing.T, name string) (*httptest.Server, <-chan seen, <-chan struct{}) {
	t.Helper()
	got := make(chan seen, 16)
	hung := make(chan struct{}, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.Path, r.Header.Get("X-Copy"), r.Header.Get("X-Call-Status"), string(b)}
		if r.URL.Path == "/hang" && r.Header.Get("X-Copy") == "1" {
			select {
			case <-r.Context().Done():
				hung <- struct{}{}
			case <-time.After(20 * time.Second):
			}
			return
		}
		io.WriteString(w, "hello from "+name)
	}))
	t.Cleanup(srv.Close)
	return srv, got, hung
}

// next returns the next request an upstream received, failing after 10s.
func next(t *testing.T, ch <-chan seen, what string) seen {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no request within 10s", what)
		return seen{}
	}
}

// startCallGuest runs nedry run with the httpcall test guest (it makes a
// proxy_http_call per request, steered by x-call-* headers, and logs each
// answer) with args (the upstream's among them).
func startCallGuest(t *testing.T, args ...string) *nedry {
	t.Helper()
	guest := hosttest.RepoPath("build", "guests", "httpcall.wasm")
	if _, err := hosttest.LoadFile(guest); err != nil {
		t.Fatalf("%v (make guests)", err)
	}
	cfg := writeFile(t, t.TempDir(), "nedry.json", `{"rules": []}`)
	return startNedry(t, append([]string{"--config", cfg, "--wasm", guest, "--workers", "1"}, args...)...)
}

// nedry run answers proxy_http_call for real: the cluster it reports as
// xds.cluster_name (the upstream's host:port) is the upstream, a --cluster
// NAME=URL another server, any other name BadArgument as in Envoy; the
// call's timeout gives Envoy's 504, an unreachable cluster its 503.
func TestRun_httpCall(t *testing.T) {
	up, upGot, _ := recordingUpstream(t, "upstream")
	other, otherGot, _ := recordingUpstream(t, "other")
	upCluster := strings.TrimPrefix(up.URL, "http://")
	n := startCallGuest(t, "--upstream", up.URL, "--cluster", "other="+other.URL, "--cluster", "down=http://"+freeClosedPort(t))
	contains(t, "start-up", n.stdout.String(), "clusters for proxy_http_call besides "+upCluster+" (the upstream): down=http://")

	tests := []struct {
		name    string
		headers map[string]string
		path    string
		status  string // x-call-status the original carried upstream
		copyTo  <-chan seen
		want    seen   // the call as its cluster received it
		log     string // the guest's log of the answer
	}{
		{"the stream's cluster is the upstream", map[string]string{"x-call": upCluster, "x-call-body": "amount=1"}, "/pay",
			"0", upGot, seen{method: "POST", path: "/pay", copy: "1", body: "amount=1"},
			`status=200 bodytext=hello from upstream`},
		{"a --cluster", map[string]string{"x-call": "other"}, "/ship",
			"0", otherGot, seen{method: "POST", path: "/ship", copy: "1"},
			`status=200 bodytext=hello from other`},
		{"the call's timeout", map[string]string{"x-call": upCluster, "x-call-timeout": "100"}, "/hang",
			"0", upGot, seen{method: "POST", path: "/hang", copy: "1"},
			`status=504 bodytext=upstream request timeout`},
		{"an unreachable cluster", map[string]string{"x-call": "down"}, "/lost",
			"0", nil, seen{}, `status=503 bodytext=upstream connect error or disconnect/reset before headers`},
		{"an unknown cluster", map[string]string{"x-call": "nowhere"}, "/nowhere", "2", nil, seen{}, ""},
	}
	from := len(n.stdout.String())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := do(client(), "POST", n.url(tt.path), tt.headers, nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			// The call is made at the request's headers, so it may reach
			// the upstream before or after the original.
			orig := next(t, upGot, "the original")
			var call seen
			if tt.copyTo == upGot {
				call = next(t, upGot, "the call")
				if orig.copy != "" {
					orig, call = call, orig
				}
			} else if tt.copyTo != nil {
				call = next(t, tt.copyTo, "the call")
			}
			if orig.path != tt.path || orig.copy != "" || orig.status != tt.status {
				t.Fatalf("upstream got %+v as the original, want %s with x-call-status %s", orig, tt.path, tt.status)
			}
			if call != tt.want {
				t.Fatalf("the cluster got %+v, want %+v", call, tt.want)
			}
			if tt.log != "" {
				_, from = n.stdout.waitFor(t, from, regexp.MustCompile(`wasm info: response .*`+regexp.QuoteMeta(tt.log)), 10*time.Second)
			}
		})
	}
}

// A call still waiting for its cluster when nedry run stops is cancelled:
// nedry exits within its shutdown bound and the cluster sees the request
// end, rather than the call outliving the proxy.
func TestRun_httpCallCancelledAtShutdown(t *testing.T) {
	up, upGot, hung := recordingUpstream(t, "upstream")
	n := startCallGuest(t, "--upstream", up.URL)
	resp, err := do(client(), "GET", n.url("/hang"), map[string]string{"x-call": strings.TrimPrefix(up.URL, "http://"),
		"x-call-timeout": "0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The original, answered at once, and the call, which hangs.
	next(t, upGot, "the first request")
	next(t, upGot, "the second request")
	if code := n.stop(t); code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	select {
	case <-hung:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream never saw the call end")
	}
}

// Past --max-http-calls calls in flight a call is answered 503 at once, as
// Envoy's circuit breaker answers past max_requests.
func TestRun_httpCallLimit(t *testing.T) {
	up, upGot, _ := recordingUpstream(t, "upstream")
	n := startCallGuest(t, "--upstream", up.URL, "--max-http-calls", "1")
	cluster := strings.TrimPrefix(up.URL, "http://")
	for _, path := range []string{"/hang", "/pay"} {
		resp, err := do(client(), "GET", n.url(path), map[string]string{"x-call": cluster, "x-call-timeout": "0"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		next(t, upGot, path)
		if path == "/hang" {
			next(t, upGot, "the hanging call") // in flight from now on
		}
	}
	n.stdout.waitFor(t, 0, regexpQuote("status=503 bodytext=nedry: --max-http-calls 1 calls in flight: call refused"), 10*time.Second)
}

func TestParseClusters(t *testing.T) {
	tests := []struct {
		values  []string
		want    string
		wantErr string
	}{
		{[]string{"b=http://b:1", "a=https://a/x"}, "a=https://a/x, b=http://b:1", ""},
		{[]string{"a"}, "", `--cluster "a": want NAME=URL`},
		{[]string{"=http://a"}, "", `--cluster "=http://a": want NAME=URL`},
		{[]string{"a=ftp://a"}, "", `--cluster a: want an http:// or https:// URL, got "ftp://a"`},
		{[]string{"a=http://"}, "", `--cluster a: want an http:// or https:// URL, got "http://"`},
		{[]string{"a=http://a", "a=http://b"}, "", "--cluster a: given twice"},
		{[]string{"up:80=http://b"}, "", "--cluster up:80: already the cluster of the upstream"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.values, " "), func(t *testing.T) {
			got, err := parseClusters(tt.values, "up:80")
			switch {
			case tt.wantErr != "":
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("have %v, want %q", err, tt.wantErr)
				}
			case err != nil || describeClusters(got) != tt.want:
				t.Fatalf("have %q, %v; want %q", describeClusters(got), err, tt.want)
			}
		})
	}
}

// Under --demo the stream's cluster is the demo, so a copy of a POST
// /payments made through proxy_http_call (as the duplicate fault makes
// them) reaches it, and the demo, a service without idempotency, counts it:
// the client's next identical POST is its second repeat. (The test guest's
// call carries no idempotency-key, so the demo knows the copy by method,
// path and body.)
func TestRun_httpCallToDemoIsARepeat(t *testing.T) {
	n := startCallGuest(t, "--demo")
	status, hdr, _ := get(t, client(), "POST", n.url("/payments"), map[string]string{"x-call": "demo"})
	if r := hdr.Get(demoRepeat); status != 200 || r != "" && r != "1" {
		t.Fatalf("the original: status %d, %s %q", status, demoRepeat, r)
	}
	n.stdout.waitFor(t, 0, regexpQuote("wasm info: response token=1"), 10*time.Second) // the copy was answered
	status, hdr, body := get(t, client(), "POST", n.url("/payments"), nil)
	if status != 200 || hdr.Get(demoRepeat) != "2" {
		t.Fatalf("the next request: status %d, %s %q, want 200 and 2", status, demoRepeat, hdr.Get(demoRepeat))
	}
	if e := echo(t, body); e.Repeat != 2 || e.Note != repeatNote("", 2) {
		t.Fatalf("echo repeat %d note %q", e.Repeat, e.Note)
	}
}

// The duplicate fault under nedry run: its copies go over real HTTP to the
// real upstream (the stream's cluster), body and headers as the client
// sent them, and are counted.
func TestRun_duplicateReachesUpstream(t *testing.T) {
	got := make(chan seen, 8)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{method: r.Method, path: r.URL.Path, copy: r.Header.Get("Idempotency-Key"), body: string(b)}
		io.WriteString(w, "paid")
	}))
	defer up.Close()
	cfg := writeFile(t, t.TempDir(), "nedry.json", `{"rules": [{"name": "dup", "match": {"route_name": "payments", "methods": ["POST"]},
		"duplicate": {"percent": 100, "copies": 2, "after": "10ms"}}]}`)
	n := startNedry(t, "--upstream", up.URL, "--config", cfg)
	resp, err := do(client(), "POST", n.url("/payments"), map[string]string{"idempotency-key": "pay-1"}, []byte("amount=1"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "paid" {
		t.Fatalf("the original: %d %q", resp.StatusCode, b)
	}
	want := seen{method: "POST", path: "/payments", copy: "pay-1", body: "amount=1"}
	for i := range 3 {
		if s := next(t, got, "request "+strconv.Itoa(i)); s != want {
			t.Fatalf("request %d: upstream got %+v, want %+v", i, s, want)
		}
	}
	_, _, stats := get(t, client(), "GET", "http://"+n.admin+"/stats", nil)
	contains(t, "/stats", stats, "nedry.rule.dup.duplicates_sent: 2\n")
	// The per-second report counts them (both, or one in each of two seconds).
	n.stdout.waitFor(t, 0, regexp.MustCompile(`faults in the last 1s: .*duplicates? sent`), 10*time.Second)
}

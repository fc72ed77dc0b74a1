package hosttest

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// guest loads build/guests/<name>.wasm; a missing file fails and names the
// make target.
func guest(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(RepoPath("build", "guests", name+".wasm"))
	if err != nil {
		t.Fatalf("load guest %s: %v: run make guests", name, err)
	}
	return b
}

func newHost(t testing.TB, name string, opts Options) *Host {
	t.Helper()
	h, err := New(context.Background(), guest(t, name), opts)
	if err != nil {
		t.Fatalf("New(%s): %v", name, err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

func req(headers ...string) Request {
	var r Request
	for i := 0; i+1 < len(headers); i += 2 {
		r.Headers = append(r.Headers, [2]string{headers[i], headers[i+1]})
	}
	return r
}

func values(h [][2]string, key string) []string {
	var out []string
	for _, kv := range h {
		if kv[0] == key {
			out = append(out, kv[1])
		}
	}
	return out
}

func mustNoTrap(t *testing.T, r Result) {
	t.Helper()
	if r.Trap != nil {
		t.Fatalf("unexpected trap: %v", r.Trap)
	}
}

func TestLoadFile_missing(t *testing.T) {
	_, err := LoadFile("does/not/exist.wasm")
	if err == nil || !strings.Contains(err.Error(), "does/not/exist.wasm not found: run make build") || !errors.Is(err, ErrNotFound) {
		t.Fatalf("have %v, want \"... not found: run make build\"", err)
	}
}

func TestNew_loadingErrors(t *testing.T) {
	tests := []struct {
		name, guest, want string
	}{
		{"no ABI version export", "noabi", "missing or unknown Proxy-Wasm ABI version"},
		{"forbidden hostcall in _initialize", "initcall", "restricted_callback"},
		{"not wasm", "", "compile module"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wasm := []byte("not wasm")
			if tc.guest != "" {
				wasm = guest(t, tc.guest)
			}
			h, err := New(context.Background(), wasm, Options{})
			if err == nil {
				h.Close(context.Background())
				t.Fatalf("New succeeded, want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("have %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	h := newHost(t, "headers", Options{})
	tests := []struct {
		name  string
		req   Request
		check func(t *testing.T, r Result)
	}{
		{"add keeps repeated keys in order", req("x-op", "add", "x-multi", "1"), func(t *testing.T, r Result) {
			if got := values(r.Upstream.Headers, "x-multi"); strings.Join(got, ",") != "1,2" {
				t.Fatalf("x-multi: have %v, want [1 2]", got)
			}
		}},
		// Envoy's setCopy since 1.16: every value replaced by one, moved to
		// the end of the map.
		{"replace leaves one value at the end and adds a missing key", req("x-op", "replace", "x-multi", "1", "x-multi", "2", "x-after", "a"), func(t *testing.T, r Result) {
			if got := values(r.Upstream.Headers, "x-multi"); strings.Join(got, ",") != "replaced" {
				t.Fatalf("x-multi: have %v, want [replaced]", got)
			}
			if last := r.Upstream.Headers[len(r.Upstream.Headers)-1]; last[0] != "x-multi" && last[0] != "x-new" {
				t.Fatalf("replaced key not at the end: headers %q", r.Upstream.Headers)
			}
			if v, _ := r.Upstream.Header("x-new"); v != "added" {
				t.Fatalf("x-new: have %q, want added", v)
			}
		}},
		{"remove removes every value", req("x-op", "remove", "x-multi", "1", "x-multi", "2"), func(t *testing.T, r Result) {
			if got := values(r.Upstream.Headers, "x-multi"); len(got) != 0 {
				t.Fatalf("x-multi: have %v, want none", got)
			}
			if v, _ := r.Upstream.Header("x-result-remove-missing"); v != "0" {
				t.Fatalf("remove of a missing key: have %s, want 0 (Ok)", v)
			}
		}},
		{"missing key is NotFound", req("x-op", "missing"), func(t *testing.T, r Result) {
			if v, _ := r.Upstream.Header("x-result-missing"); v != "1" {
				t.Fatalf("have %s, want 1", v)
			}
		}},
		{"pairs format and byte size", req("x-op", "pairs"), func(t *testing.T, r Result) {
			// :method GET, :path /, :authority example.com, :scheme http, x-op pairs
			count, bytes, size, layout := hv(r, "x-result-count"), hv(r, "x-result-bytes"), hv(r, "x-result-size"), hv(r, "x-result-layout")
			keys := 7 + 5 + 10 + 7 + 4
			vals := 3 + 1 + 11 + 4 + 5
			if count != "5" || bytes != itoa(4+5*8+keys+vals+10) || size != itoa(keys+vals) || layout != "ok" {
				t.Fatalf("count %s bytes %s size %s layout %s", count, bytes, size, layout)
			}
		}},
		{"set pairs replaces the map", req("x-op", "set-pairs", "x-gone", "1"), func(t *testing.T, r Result) {
			if len(r.Upstream.Headers) != 2 || hv(r, "a") != "bb" || hv(r, ":path") != "/" {
				t.Fatalf("have %v", r.Upstream.Headers)
			}
		}},
		{"map type out of range is BadArgument", req("x-op", "bad-type"), func(t *testing.T, r Result) {
			if v := hv(r, "x-result-bad-type"); v != "2" {
				t.Fatalf("have %s, want 2", v)
			}
		}},
		{"request map answers BadArgument in proxy_on_response_headers", req(), func(t *testing.T, r Result) {
			if v := r.Header("x-request-map-status"); v != "2" {
				t.Fatalf("have %q, want 2", v)
			}
			if v := r.Header("x-seen-status"); v != "200" {
				t.Fatalf("response :status seen by the guest: %q", v)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.Do(tc.req)
			mustNoTrap(t, r)
			if r.Upstream == nil {
				t.Fatal("request never reached the upstream")
			}
			tc.check(t, r)
		})
	}
}

func hv(r Result, key string) string {
	v, _ := r.Upstream.Header(key)
	return v
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestHeaders_strictMisuse(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"CR LF in a value", req("x-op", "bad-bytes"), "invalid header bytes"},
		{"write after the headers went on", Request{Headers: [][2]string{{"x-op", "write-after-continue"}}, Body: []byte("b")}, "after they went on"},
		{"out-of-bounds memory", req("x-op", "oob"), "out of bounds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t, "headers", Options{})
			r := h.Do(tc.req)
			if r.Trap == nil || !strings.Contains(r.Trap.Error(), tc.want) {
				t.Fatalf("trap: have %v, want one containing %q", r.Trap, tc.want)
			}
			if r.LocalReply == nil || r.LocalReply.Status != 503 || r.LocalReply.Details != "wasm_fail_stream" {
				t.Fatalf("fail closed: have %+v", r.LocalReply)
			}
		})
	}
}

func TestHeaders_lenientAnswersStatus(t *testing.T) {
	h := newHost(t, "headers", Options{Lenient: true})
	r := h.Do(req("x-op", "bad-bytes"))
	mustNoTrap(t, r)
	if _, ok := r.Upstream.Header("x-evil"); ok {
		t.Fatal("invalid header reached the upstream")
	}
}

func TestBuffers(t *testing.T) {
	h := newHost(t, "buffers", Options{VMConfig: []byte("vmcfg"), PluginConfig: []byte("plugin")})
	r := h.Do(Request{Body: []byte("hello"), Response: &Response{Status: 200, Body: []byte("resp")}})
	mustNoTrap(t, r)
	if v := hv(r, "x-body-status"); v != "1" {
		t.Fatalf("request body outside its callback: have %s, want 1 (NotFound)", v)
	}
	if v := hv(r, "x-config-status"); v != "1" {
		t.Fatalf("plugin configuration outside proxy_on_configure: have %s, want 1", v)
	}
	if string(r.Upstream.Body) != "replaced:hello" {
		t.Fatalf("upstream body: have %q", r.Upstream.Body)
	}
	if string(r.Response.Body) != "resp+tail" {
		t.Fatalf("response body: have %q", r.Response.Body)
	}
	want := []string{"vm_config=vmcfg", "config=plugin", "body=hello part=llo past= ptr=0 status=0"}
	logs := h.Logs()
	for _, w := range want {
		found := false
		for _, l := range logs {
			found = found || l.Message == w
		}
		if !found {
			t.Fatalf("missing log %q in %v", w, logs)
		}
	}
}

func TestProperties(t *testing.T) {
	h := newHost(t, "properties", Options{NodeID: "node-1", VMID: "vm", Properties: map[string]string{"xds.cluster_name": "default"}})
	r := h.Do(Request{
		Headers:    [][2]string{{":path", "/a/b?q=1"}, {":method", "POST"}, {"x-props", "request.path,request.url_path,request.method,request.host,request.scheme,xds.cluster_name,xds.route_name,plugin_name,plugin_vm_id,node.id,no.such.thing"}},
		Properties: map[string]string{"xds.route_name": "r1"},
	})
	mustNoTrap(t, r)
	want := map[string]string{
		"request.path": "/a/b?q=1", "request.url_path": "/a/b", "request.method": "POST", "request.host": "example.com",
		"request.scheme": "http", "xds.cluster_name": "default", "xds.route_name": "r1", "plugin_name": "nedry",
		"plugin_vm_id": "vm", "node.id": "node-1", "no.such.thing": "!1",
	}
	for k, v := range want {
		if got := hv(r, "x-prop-"+k); got != v {
			t.Errorf("%s: have %q, want %q", k, got, v)
		}
	}
}

func TestMetrics(t *testing.T) {
	h := newHost(t, "metrics", Options{Workers: 2, Lenient: true})
	for i := 0; i < 4; i++ {
		mustNoTrap(t, h.Do(Request{}))
	}
	m := h.Metrics()
	if m["test.requests"].Value != 4 || m["test.requests"].Type != MetricCounter {
		t.Fatalf("counter: have %+v, want 4 across both workers", m["test.requests"])
	}
	if m["test.active"].Value != 0 {
		t.Fatalf("gauge: have %d, want 0", m["test.active"].Value)
	}
	if len(m["test.sizes"].Histogram) != 4 || m["test.sizes"].Histogram[0] != 42 {
		t.Fatalf("histogram: have %v", m["test.sizes"].Histogram)
	}
	r := h.Do(Request{})
	if hv(r, "x-hist-get") != "2" {
		t.Fatalf("proxy_get_metric on a histogram: have %s, want 2", hv(r, "x-hist-get"))
	}
	if hv(r, "x-count") != "5" && hv(r, "x-count") != "3" {
		t.Fatalf("proxy_get_metric: have %s", hv(r, "x-count"))
	}
	if hv(r, "x-unknown-get") != "1" {
		t.Fatalf("lenient proxy_get_metric of an unknown id: have %s, want 1 (NotFound)", hv(r, "x-unknown-get"))
	}
	strict := newHost(t, "metrics", Options{})
	if r := strict.Do(Request{}); r.Trap == nil || !strings.Contains(r.Trap.Error(), "unknown metric id 9999") {
		t.Fatalf("strict: proxy_get_metric of an unknown id must trap, have %v", r.Trap)
	}
	found := false
	for _, l := range h.Logs() {
		found = found || l.Message == "bad type status=2"
	}
	if !found {
		t.Fatal("proxy_define_metric with type 3 did not answer BadArgument")
	}
}

func TestLogging(t *testing.T) {
	for _, level := range []LogLevel{LogLevelTrace, LogLevelWarn} {
		t.Run(level.String(), func(t *testing.T) {
			h := newHost(t, "logging", Options{LogLevel: level})
			r := h.Do(Request{})
			mustNoTrap(t, r)
			var got []string
			for _, l := range r.Logs {
				got = append(got, l.Level.String()+":"+l.Message)
			}
			want := []string{"trace:level-0", "debug:level-1", "info:level-2", "warn:level-3", "error:level-4", "critical:level-5", "info:to stdout", "error:to stderr"}
			var keep []string
			for _, w := range want {
				lv := w[:strings.IndexByte(w, ':')]
				for l := level; l <= LogLevelCritical; l++ {
					if l.String() == lv {
						keep = append(keep, w)
					}
				}
			}
			if strings.Join(got, "|") != strings.Join(keep, "|") {
				t.Fatalf("have %v, want %v", got, keep)
			}
			if hv(r, "x-log-level") != itoa(int(level)) || hv(r, "x-log-6") != "2" {
				t.Fatalf("log level %s, level 6 status %s", hv(r, "x-log-level"), hv(r, "x-log-6"))
			}
		})
	}
}

func TestStream_delayResumedByTick(t *testing.T) {
	h := newHost(t, "stream", Options{})
	s := h.Start(req("x-delay-ms", "25"))
	if !s.Paused() || s.Done() || h.PausedStreams() != 1 {
		t.Fatalf("paused %t done %t", s.Paused(), s.Done())
	}
	h.Advance(20 * time.Millisecond)
	if !s.Paused() {
		t.Fatal("resumed too early")
	}
	h.Advance(10 * time.Millisecond)
	if !s.Done() {
		t.Fatal("not resumed after the delay")
	}
	r := s.Result()
	mustNoTrap(t, r)
	if r.Held != 30*time.Millisecond {
		t.Fatalf("held %v, want 30ms (ticks every 10ms)", r.Held)
	}
	if v, _ := r.Upstream.Header("x-resumed"); v != "1" {
		t.Fatal("header write from the tick (effective context, paused at request headers) missing")
	}
	// The stream guest exports no proxy_on_log nor body callbacks.
	want := "proxy_on_context_create proxy_on_request_headers proxy_on_response_headers proxy_on_done proxy_on_delete"
	if got := strings.Join(r.Callbacks, " "); got != want {
		t.Fatalf("callbacks: have %s, want %s", got, want)
	}
	if h.PausedStreams() != 0 || h.ActiveStreams() != 0 {
		t.Fatalf("paused %d active %d", h.PausedStreams(), h.ActiveStreams())
	}
}

func TestStream_effectiveContextResetPerCallback(t *testing.T) {
	h := newHost(t, "stream", Options{PluginConfig: []byte("no-effective")})
	r := h.Do(req("x-delay-ms", "5"))
	if !r.Reset || r.ResetBy != "timeout" || r.Upstream != nil {
		t.Fatalf("a continue without proxy_set_effective_context must resume nothing; have %+v", r)
	}
}

func TestStream_localReply(t *testing.T) {
	h := newHost(t, "stream", Options{})
	tests := []struct {
		name       string
		req        Request
		status     int
		grpcStatus int32
		header     [2]string
	}{
		{"plain", req("x-reply", "plain"), 403, -1, [2]string{"content-type", "text/plain"}},
		{"grpc", req("x-reply", "grpc"), 200, 7, [2]string{"grpc-status", "7"}},
		{"from a tick", req("x-reply-later", "1"), 403, -1, [2]string{"x-extra", "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.Do(tc.req)
			mustNoTrap(t, r)
			if r.Upstream != nil {
				t.Fatal("the upstream saw a locally answered request")
			}
			if r.LocalReply == nil || r.LocalReply.Details != "test_reply" || r.LocalReply.GRPCStatus != tc.grpcStatus {
				t.Fatalf("local reply: %+v", r.LocalReply)
			}
			if r.Response.Status != tc.status || r.Header(tc.header[0]) != tc.header[1] {
				t.Fatalf("response: %+v", r.Response)
			}
			if r.Header("x-on-response") != itoa(tc.status) {
				t.Fatalf("proxy_on_response_headers did not run on the reply: %+v", r.Response.Headers)
			}
		})
	}
}

func TestStream_closeAndReset(t *testing.T) {
	h := newHost(t, "stream", Options{})
	for _, v := range []string{"now", "later"} {
		r := h.Do(req("x-close", v))
		mustNoTrap(t, r)
		if !r.Reset || r.ResetBy != "plugin" || r.Response != nil || r.Upstream != nil {
			t.Fatalf("close %s: %+v", v, r)
		}
	}
	s := h.Start(req("x-delay-ms", "100"))
	h.Advance(10 * time.Millisecond)
	s.Reset()
	r := s.Result()
	if !s.Done() || !r.Reset || r.ResetBy != "client" || r.Upstream != nil {
		t.Fatalf("client reset while paused: %+v", r)
	}
	h.Advance(time.Second) // the tick must not resume a reset stream
	if len(h.Trapped()) != 0 {
		t.Fatalf("traps: %v", h.Trapped())
	}
	r = h.Do(Request{Headers: [][2]string{{"x-delay-ms", "10"}}, ResetAt: ResetAfterRequestHeaders})
	if !r.Reset || r.ResetBy != "client" || r.Upstream != nil {
		t.Fatalf("ResetAfterRequestHeaders: %+v", r)
	}
}

func TestStream_continueNotPausedIsMisuse(t *testing.T) {
	h := newHost(t, "stream", Options{})
	r := h.Do(req("x-bad-continue", "1"))
	if r.Trap == nil || !strings.Contains(r.Trap.Error(), "not paused") {
		t.Fatalf("have %v", r.Trap)
	}
}

func TestMemoryAllocate(t *testing.T) {
	tests := []struct{ mode, want string }{
		{"zero", "returned 0"},
		{"oob", "outside memory"},
		{"restricted", "restricted_callback"},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			h := newHost(t, "alloc", Options{})
			r := h.Do(req("x-alloc", tc.mode))
			if r.Trap == nil || !strings.Contains(r.Trap.Error(), tc.want) {
				t.Fatalf("have %v, want a trap containing %q", r.Trap, tc.want)
			}
		})
	}
}

func TestFailurePolicy(t *testing.T) {
	tests := []struct {
		policy     FailurePolicy
		wantStatus int
		wantSeen   string // x-seen after the trap: the guest ran again (reload)
	}{
		{FailClosed, 503, ""},
		{FailOpen, 200, ""},
		{FailReload, 200, "1"},
	}
	for _, tc := range tests {
		t.Run(tc.policy.String(), func(t *testing.T) {
			h := newHost(t, "trap", Options{FailurePolicy: tc.policy})
			r := h.Do(req("x-trap", "1"))
			if r.Trap == nil || !strings.Contains(r.Trap.Error(), "wasm") {
				t.Fatalf("trap with wasm stack expected, have %v", r.Trap)
			}
			after := h.Do(req())
			if after.Response.Status != tc.wantStatus {
				t.Fatalf("status after trap: have %d, want %d", after.Response.Status, tc.wantStatus)
			}
			if tc.policy == FailClosed && (after.LocalReply == nil || after.LocalReply.Details != "wasm_fail_stream") {
				t.Fatalf("fail closed: %+v", after.LocalReply)
			}
			if v, _ := after.Upstream.Header("x-seen"); v != tc.wantSeen {
				t.Fatalf("x-seen: have %q, want %q", v, tc.wantSeen)
			}
			if len(h.Trapped()) != 1 {
				t.Fatalf("traps: %v", h.Trapped())
			}
		})
	}
	t.Run("grpc fail closed", func(t *testing.T) {
		h := newHost(t, "trap", Options{})
		h.Do(req("x-trap", "1"))
		r := h.Do(req("content-type", "application/grpc"))
		if r.Response.Status != 200 || r.Header("grpc-status") != "14" || r.LocalReply.GRPCStatus != 14 {
			t.Fatalf("have %+v", r.Response)
		}
	})
}

func TestReconfigure(t *testing.T) {
	h := newHost(t, "buffers", Options{Workers: 2, PluginConfig: []byte("one")})
	err := h.Reconfigure([]byte("refuse"))
	var pe *PushError
	if !errors.As(err, &pe) || pe.Stage != "validation" || !strings.Contains(pe.Reason, "proxy_on_configure returned false") {
		t.Fatalf("have %v", err)
	}
	if len(pe.Logs) == 0 || pe.Logs[len(pe.Logs)-1].Message != "refusing configuration" {
		t.Fatalf("push logs: %v", pe.Logs)
	}
	if err := h.Check([]byte("fine")); err != nil {
		t.Fatal(err)
	}
	if err := h.Reconfigure([]byte("two")); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range h.Logs() {
		if l.Message == "config=two" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("config=two logged by %d workers, want 2", n)
	}
}

func TestReconfigure_drain(t *testing.T) {
	h := newHost(t, "stream", Options{PluginConfig: []byte("slow-done")})
	s := h.Start(req("x-delay-ms", "50"))
	if err := h.Reconfigure([]byte("next")); err != nil {
		t.Fatal(err)
	}
	deleted := func() bool {
		for _, l := range h.Logs() {
			if l.Message == "root deleted 1" {
				return true
			}
		}
		return false
	}
	s2 := h.Start(req("x-delay-ms", "10"))
	h.Advance(20 * time.Millisecond)
	if !s2.Done() || s.Done() {
		t.Fatalf("new root stream done %t, old root stream done %t", s2.Done(), s.Done())
	}
	if deleted() {
		t.Fatal("old root deleted while its stream is paused")
	}
	h.Advance(40 * time.Millisecond) // old stream resumes; proxy_on_done answers false
	if !s.Done() {
		t.Fatal("old root's delay did not complete")
	}
	h.Advance(20 * time.Millisecond) // tick of the old root calls proxy_done
	if !deleted() {
		t.Fatal("old root not deleted after proxy_done")
	}
	if len(h.Trapped()) != 0 {
		t.Fatal(h.Trapped())
	}
}

func TestWorkers_concurrent(t *testing.T) {
	h := newHost(t, "stream", Options{Workers: 4})
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				r := h.Do(req("x-delay-ms", "10"))
				if r.Trap != nil || r.Upstream == nil || r.Response == nil || r.Response.Status != 200 {
					errs <- "bad result"
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if h.ActiveStreams() != 0 || h.PausedStreams() != 0 {
		t.Fatalf("active %d paused %d", h.ActiveStreams(), h.PausedStreams())
	}
}

func TestNoop_floor(t *testing.T) {
	h := newHost(t, "noop", Options{})
	r := h.Do(Request{Body: []byte("x"), Trailers: [][2]string{{"t", "1"}}, Response: &Response{Status: 201, Body: []byte("y"), Trailers: [][2]string{{"u", "2"}}}})
	mustNoTrap(t, r)
	want := "proxy_on_context_create proxy_on_request_headers proxy_on_request_body proxy_on_request_trailers proxy_on_response_headers proxy_on_response_body proxy_on_response_trailers proxy_on_log proxy_on_done proxy_on_delete"
	if got := strings.Join(r.Callbacks, " "); got != want {
		t.Fatalf("have %s, want %s", got, want)
	}
	if r.Response.Status != 201 || string(r.Response.Body) != "y" {
		t.Fatalf("%+v", r.Response)
	}
}

func TestRealTime_waitResumesOnWallClockTicks(t *testing.T) {
	h := newHost(t, "stream", Options{RealTime: true})
	s := h.Start(req("x-delay-ms", "20"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := s.Wait(ctx)
	if err != nil {
		t.Fatalf("stream never resumed: %v", err)
	}
	mustNoTrap(t, r)
	if r.Upstream == nil || r.Response.Status != 200 || r.Held < 20*time.Millisecond {
		t.Fatalf("%+v", r)
	}
}

package hosttest_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// The standard Go wasm GC stops the world inside whichever callback pushes
// the heap past its goal, so every byte of per-request garbage turns into
// tail latency, linear-memory growth and CPU. These tests count the guest's
// heap allocations per request on each request path of the filter, with a
// debug build (tag nedrydebug) that exports nedry_debug_mallocs
// (runtime.MemStats.Mallocs). The shipped module does not have that export.

// mallocsExport is the debug-only export that returns MemStats.Mallocs.
const mallocsExport = "nedry_debug_mallocs"

// buildDebugFilter compiles ./filter with the nedrydebug tag into a
// temporary directory, the way make build compiles the shipped module.
func buildDebugFilter(t *testing.T) []byte {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the nedrydebug module: %v", err)
	}
	out := filepath.Join(t.TempDir(), "nedry-debug.wasm")
	cmd := exec.Command(goBin, "build", "-tags", "nedrydebug", "-buildmode=c-shared", "-trimpath", "-o", out, "./filter")
	cmd.Dir = hosttest.RepoPath()
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags nedrydebug ./filter: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// allocConfig has one rule per request path. Every percentage is 0 or 100,
// so no path depends on a draw. The route_name rule comes first so that
// every request also fetches the xds.route_name property.
const allocConfig = `{
  "seed": 42,
  "tick": "1ms",
  "header_control": {"enabled": true, "secret": "s3cret", "max_delay": "50ms"},
  "rules": [
    {"name": "route", "match": {"route_name": "alloc-route", "methods": ["PUT"]}, "abort": {"percent": 100, "http_status": 500}},
    {"name": "pass", "match": {"prefix": "/pass/", "headers": [{"name": "x-group", "exact": "beta"}]}, "abort": {"percent": 0, "http_status": 503}},
    {"name": "abort", "match": {"prefix": "/abort/"}, "abort": {"percent": 100, "http_status": 503, "grpc_status": 14,
      "body": "chaos", "headers": {"retry-after": "1"}}},
    {"name": "corrupt", "match": {"prefix": "/corrupt/"}, "corrupt": {"percent": 100,
      "request": [{"op": "remove", "name": "authorization"}, {"op": "set", "name": "x-set", "value": "nedry"},
        {"op": "append", "name": "x-app", "value": "more"}, {"op": "empty", "name": "x-empty"},
        {"op": "truncate", "name": "x-long", "length": 4}, {"op": "garble", "name": "x-request-id"}],
      "response": [{"op": "garble", "name": "content-type"}, {"op": "set", "name": "x-resp", "value": "v"}, {"op": "status", "value": "502"}]}},
    {"name": "delay", "match": {"prefix": "/delay/"}, "delay": {"percent": 100, "fixed": "3ms", "jitter": "2ms"}},
    {"name": "delay_resp", "match": {"prefix": "/delay_resp/"}, "delay": {"percent": 100, "fixed": "2ms", "phase": "response"}},
    {"name": "reset", "match": {"prefix": "/reset/"}, "reset": {"percent": 100}},
    {"name": "timed", "match": {"prefix": "/timed/"}, "active": {"hours": "09:00-17:00"},
      "abort": {"percent": 0, "ramp": {"to": 0.0001, "over": "1h", "steps": 2}}},
    {"name": "inactive", "match": {"prefix": "/inactive/"}, "active": {"hours": "20:00-21:00"}, "abort": {"percent": 100}},
    {"name": "guarded", "match": {"prefix": "/guarded/"}, "abort": {"percent": 0},
      "halt": {"max_error_percent": 100, "max_slow_percent": 100, "slow": "1s"}},
    {"name": "sticky", "match": {"prefix": "/sticky/"}, "sample_by": {"header": "x-user"}, "abort": {"percent": 100, "http_status": 503}},
    {"name": "sticky_cookie", "match": {"prefix": "/sticky_cookie/"}, "sample_by": {"cookie": "session", "missing": "skip"},
      "abort": {"percent": 100, "http_status": 503}},
    {"name": "body_raw", "match": {"prefix": "/body_raw/"}, "corrupt": {"percent": 100,
      "request_body": {"ops": [{"op": "garble", "count": 2}, {"op": "truncate", "length": 8}]}}},
    {"name": "body_json", "match": {"prefix": "/body_json/"}, "corrupt": {"percent": 100,
      "request_body": {"ops": [{"op": "set", "path": "amount", "value": -1}]},
      "response_body": {"ops": [{"op": "retype", "path": "id"}]}}},
    {"name": "body_never", "match": {"prefix": "/body_never/"}, "corrupt": {"percent": 0,
      "request_body": {"ops": [{"op": "truncate", "length": 1}]}, "response_body": {"ops": [{"op": "truncate", "length": 1}]}}},
    {"name": "dup_never", "match": {"prefix": "/dup_never/"}, "duplicate": {"percent": 0}},
    {"name": "dup", "match": {"prefix": "/dup/"}, "duplicate": {"percent": 100, "copies": 2, "after": "1ms", "cluster": "backend"}}
  ]
}`

func allocRequest(path string, extra ...string) hosttest.Request {
	r := hosttest.Request{Headers: [][2]string{
		{":method", "GET"}, {":path", path + "?q=1"}, {":authority", "api.example.com"}, {":scheme", "https"},
		{"user-agent", "alloc/1.0"}, {"accept", "application/json"}, {"x-group", "beta"},
		{"authorization", "Bearer abc.def.ghi"}, {"x-request-id", "2f1e4c9a-7b44-4c1e-9a55-0d8c4c1b6a10"},
		{"x-long", "0123456789"},
	}}
	for i := 0; i+1 < len(extra); i += 2 {
		r.Headers = append(r.Headers, [2]string{extra[i], extra[i+1]})
	}
	r.Properties = map[string]string{"xds.route_name": "alloc-route"}
	return r
}

// allocPath is one request path: run drives one request through it and
// says what is wrong with the outcome, so the test never counts the
// allocations of a path that did not happen.
type allocPath struct {
	name string
	run  func(h *hosttest.Host) string
	// budget is the allowed mallocs per request; 0 unless a comment says
	// why something is unavoidable.
	budget float64
}

func allocWant(r hosttest.Result, status int, upstream bool) string {
	switch {
	case r.Trap != nil:
		return "trap: " + r.Trap.Error()
	case r.Response == nil:
		return "no response (reset by " + r.ResetBy + ")"
	case r.Response.Status != status:
		return "unexpected status " + strconv.Itoa(r.Response.Status)
	case (r.Upstream != nil) != upstream:
		return "upstream reached: " + strconv.FormatBool(r.Upstream != nil)
	}
	return ""
}

var allocPaths = []allocPath{
	{name: "no_match", run: func(h *hosttest.Host) string {
		return allocWant(h.Do(allocRequest("/other/x")), 200, true)
	}},
	{name: "matched_no_fault", run: func(h *hosttest.Host) string {
		return allocWant(h.Do(allocRequest("/pass/x")), 200, true)
	}},
	{name: "timed_window_ramp", run: func(h *hosttest.Host) string {
		return allocWant(h.Do(allocRequest("/timed/x")), 200, true)
	}},
	{name: "outside_window", run: func(h *hosttest.Host) string {
		return allocWant(h.Do(allocRequest("/inactive/x")), 200, true)
	}},
	{name: "guarded_control", run: func(h *hosttest.Host) string {
		return allocWant(h.Do(allocRequest("/guarded/x")), 200, true)
	}},
	{name: "abort_http", run: func(h *hosttest.Host) string {
		r := h.Do(allocRequest("/abort/x"))
		if msg := allocWant(r, 503, false); msg != "" {
			return msg
		}
		if r.Header("retry-after") != "1" || r.Header("x-nedry-fault") != "abort; abort" {
			return "abort reply headers: " + r.Header("retry-after") + " / " + r.Header("x-nedry-fault")
		}
		return ""
	}},
	{name: "abort_grpc", run: func(h *hosttest.Host) string {
		r := h.Do(allocRequest("/abort/x", "content-type", "application/grpc"))
		if msg := allocWant(r, 200, false); msg != "" {
			return msg
		}
		if r.LocalReply == nil || r.LocalReply.GRPCStatus != 14 {
			return "not a gRPC local reply"
		}
		return ""
	}},
	{name: "corrupt_request_response", run: func(h *hosttest.Host) string {
		r := h.Do(allocRequest("/corrupt/x"))
		if msg := allocWant(r, 502, true); msg != "" {
			return msg
		}
		if v, _ := r.Upstream.Header("x-long"); v != "0123" {
			return "x-long not truncated: " + v
		}
		if v, _ := r.Upstream.Header("x-request-id"); len(v) != 36 || v == "2f1e4c9a-7b44-4c1e-9a55-0d8c4c1b6a10" {
			return "x-request-id not garbled: " + v
		}
		return ""
	}},
	{name: "delay_request_tick", run: func(h *hosttest.Host) string {
		s := h.Start(allocRequest("/delay/x"))
		if !s.Paused() {
			return "not paused"
		}
		h.Advance(6 * time.Millisecond)
		if !s.Done() {
			return "not resumed by the tick"
		}
		return allocWant(s.Result(), 200, true)
	}},
	{name: "delay_response_tick", run: func(h *hosttest.Host) string {
		s := h.Start(allocRequest("/delay_resp/x"))
		if !s.Paused() {
			return "response not paused"
		}
		h.Advance(3 * time.Millisecond)
		if !s.Done() {
			return "not resumed by the tick"
		}
		return allocWant(s.Result(), 200, true)
	}},
	{name: "reset", run: func(h *hosttest.Host) string {
		r := h.Do(allocRequest("/reset/x"))
		if !r.Reset || r.ResetBy != "plugin" || r.Upstream != nil {
			return "not reset by the plugin"
		}
		return ""
	}},
	{name: "sticky_header", run: func(h *hosttest.Host) string {
		return allocWant(h.Do(allocRequest("/sticky/x", "x-user", "user-42")), 503, false)
	}},
	{name: "sticky_cookie", run: func(h *hosttest.Host) string {
		return allocWant(h.Do(allocRequest("/sticky_cookie/x", "cookie", "a=1", "cookie", "theme=dark; session=s-42")), 503, false)
	}},
	{name: "sticky_cookie_missing", run: func(h *hosttest.Host) string {
		return allocWant(h.Do(allocRequest("/sticky_cookie/x", "cookie", "a=1; sessions=2")), 200, true)
	}},
	{name: "body_not_drawn", run: func(h *hosttest.Host) string {
		r := allocRequest("/body_never/x", "content-type", "application/json")
		r.Body = []byte(`{"amount":12,"id":3}`)
		return allocWant(h.Do(r), 200, true)
	}},
	// A rewritten body is read from the host into a buffer the guest
	// allocates (proxy_on_memory_allocate), once per body.
	{name: "body_raw", budget: 1, run: func(h *hosttest.Host) string {
		r := allocRequest("/body_raw/x")
		r.Chunks = [][]byte{[]byte("0123456789"), []byte("abcdef")}
		res := h.Do(r)
		if msg := allocWant(res, 200, true); msg != "" {
			return msg
		}
		if len(res.Upstream.Body) != 8 {
			return "body not truncated: " + string(res.Upstream.Body)
		}
		return ""
	}},
	// sjson builds each rewritten JSON body anew, besides the buffer read
	// from the host: JSON body ops are the one request path that allocates
	// in proportion to what it does, and only on streams whose rule drew
	// the corruption. Two bodies, one op each: 11 mallocs measured.
	{name: "body_json", budget: 12, run: func(h *hosttest.Host) string {
		r := allocRequest("/body_json/x", "content-type", "application/json")
		r.Body = []byte(`{"amount":12,"id":3}`)
		r.Response = &hosttest.Response{Status: 200, Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(`{"id":3}`)}
		res := h.Do(r)
		if msg := allocWant(res, 200, true); msg != "" {
			return msg
		}
		if string(res.Upstream.Body) != `{"amount":-1,"id":3}` || string(res.Response.Body) != `{"id":"3"}` {
			return "bodies not rewritten: " + string(res.Upstream.Body) + " " + string(res.Response.Body)
		}
		return ""
	}},
	{name: "duplicate_not_drawn", run: func(h *hosttest.Host) string {
		r := allocRequest("/dup_never/x")
		r.Body = []byte(`{"amount":12}`)
		return allocWant(h.Do(r), 200, true)
	}},
	// The copy's headers and body go into buffers of a job the VM keeps
	// for reuse, the calls' tokens into a slice it keeps too.
	{name: "duplicate_sent_and_answered", run: func(h *hosttest.Host) string {
		r := allocRequest("/dup/x")
		r.Chunks = [][]byte{[]byte(`{"amount":`), []byte(`12}`)}
		calls := len(h.HTTPCalls())
		if msg := allocWant(h.Do(r), 200, true); msg != "" {
			return msg
		}
		h.Advance(4 * time.Millisecond)
		if n := len(h.HTTPCalls()) - calls; n != 2 {
			return strconv.Itoa(n) + " copies, want 2"
		}
		return ""
	}},
	{name: "header_control_abort", run: func(h *hosttest.Host) string {
		r := h.Do(allocRequest("/other/x", "x-nedry-secret", "s3cret", "x-nedry-abort", "429"))
		return allocWant(r, 429, false)
	}},
	{name: "header_control_delay", run: func(h *hosttest.Host) string {
		s := h.Start(allocRequest("/other/x", "x-nedry-secret", "s3cret", "x-nedry-delay-ms", "2"))
		if !s.Paused() {
			return "not paused"
		}
		h.Advance(3 * time.Millisecond)
		if !s.Done() {
			return "not resumed by the tick"
		}
		r := s.Result()
		if msg := allocWant(r, 200, true); msg != "" {
			return msg
		}
		if _, ok := r.Upstream.Header("x-nedry-delay-ms"); ok {
			return "x-nedry-delay-ms reached the upstream"
		}
		return ""
	}},
	{name: "many_paused", run: func(h *hosttest.Host) string {
		// A batch of streams held at once, as under load: the maps keyed by
		// stream id hold many entries and see ids they never saw before.
		var held [64]*hosttest.Stream
		for i := range held {
			if held[i] = h.Start(allocRequest("/delay/x")); !held[i].Paused() {
				return "not paused"
			}
		}
		for i := 0; i < len(held); i += 3 {
			held[i].Reset()
		}
		h.Advance(6 * time.Millisecond)
		for i, s := range held {
			if !s.Done() {
				return "stream " + strconv.Itoa(i) + " still held"
			}
		}
		return ""
	}},
	{name: "client_reset_while_paused", run: func(h *hosttest.Host) string {
		s := h.Start(allocRequest("/delay/x"))
		if !s.Paused() {
			return "not paused"
		}
		s.Reset()
		if !s.Done() || h.PausedStreams() != 0 {
			return "reset stream still held"
		}
		return ""
	}},
}

// TestAlloc_requestPaths drives 1,000 requests through each request path of
// the filter after a warm-up and fails when the guest allocated on the heap.
func TestAlloc_requestPaths(t *testing.T) {
	wasm := buildDebugFilter(t)
	h, err := hosttest.New(context.Background(), wasm, hosttest.Options{
		PluginConfig: []byte(allocConfig), Seed: 3, LogLevel: hosttest.LogLevelInfo,
		Clusters: map[string]hosttest.Cluster{"backend": {}},
		// 10:00 UTC: the timed rule is inside its window, the inactive one outside.
		Start: time.Date(2026, 6, 5, 10, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	mallocs := func() uint64 {
		t.Helper()
		n, err := h.CallExport(0, mallocsExport)
		if err != nil {
			t.Fatalf("call %s: %v", mallocsExport, err)
		}
		return n
	}
	// What reading the counter costs by itself, so it is not blamed on the
	// requests.
	m0 := mallocs()
	probe := mallocs() - m0

	const warmup, n = 300, 1000
	// Warm every path first: reusable buffers grow to their working size,
	// the local replies of each fault set are serialized once per rule,
	// stream contexts are recycled.
	for _, p := range allocPaths {
		for i := 0; i < warmup; i++ {
			if msg := p.run(h); msg != "" {
				t.Fatalf("%s warm-up: %s", p.name, msg)
			}
		}
	}
	for _, p := range allocPaths {
		t.Run(p.name, func(t *testing.T) {
			before := mallocs()
			for i := 0; i < n; i++ {
				if msg := p.run(h); msg != "" {
					t.Fatalf("request %d: %s", i, msg)
				}
			}
			after := mallocs()
			per := float64(after-before-probe) / n
			if per > p.budget {
				t.Fatalf("guest heap allocations: have %.3f per request (%d over %d requests), want <= %v",
					per, after-before-probe, n, p.budget)
			}
		})
	}
	noTrap(t, h)
	settled(t, h)
}

// TestAlloc_debugExportNotShipped checks that the module make build ships
// has no debug export.
func TestAlloc_debugExportNotShipped(t *testing.T) {
	h := newNedry(t, `{}`, hosttest.Options{})
	if _, err := h.CallExport(0, mallocsExport); err == nil {
		t.Fatalf("build/nedry.wasm exports %s; it belongs to nedrydebug builds only", mallocsExport)
	}
}

// TestAlloc_configPushesKeepMemoryFlat pushes 150 configurations (every
// third one refused) with requests in between and checks that guest linear
// memory after the last push is what it was after the tenth. Parsing leaves
// garbage; the filter collects it when the next proxy_on_configure starts, since
// wasm memory never shrinks once the heap has grown into it.
func TestAlloc_configPushesKeepMemoryFlat(t *testing.T) {
	h := newNedry(t, soakConfig(0), hosttest.Options{LogLevel: hosttest.LogLevelInfo})
	var warm uint32
	for gen := 1; gen <= 150; gen++ {
		cfg := soakConfig(gen)
		refuse := gen%3 == 0
		if refuse {
			cfg = `{"rules": [{"name": "Bad Name", "abort": {"percent": 200}}]}`
		}
		if err := h.Reconfigure([]byte(cfg)); (err != nil) != refuse {
			t.Fatalf("push %d: refused %v, want %v (%v)", gen, err != nil, refuse, err)
		}
		for i := 0; i < 100; i++ {
			if r := h.Do(allocRequest("/c/x")); r.Trap != nil {
				t.Fatalf("push %d: trap: %v", gen, r.Trap)
			}
		}
		if gen == 10 {
			warm = h.MemorySize(0)
		}
	}
	if have := h.MemorySize(0); have != warm {
		t.Fatalf("guest memory: %d bytes after 10 pushes, %d after 150", warm, have)
	}
	noTrap(t, h)
}

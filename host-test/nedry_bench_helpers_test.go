package hosttest_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// Shared pieces of the benchmarks in nedry_bench_test.go. Everything here is
// prefixed bench so it cannot collide with the other black-box tests of the
// package.

var (
	benchWasmMu sync.Mutex
	benchWasms  = map[string][]byte{}
)

// benchLoad reads a module once per test binary. A missing file fails and
// names the make target; it never skips.
func benchLoad(tb testing.TB, path ...string) []byte {
	tb.Helper()
	benchWasmMu.Lock()
	defer benchWasmMu.Unlock()
	key := strings.Join(path, "/")
	if b, ok := benchWasms[key]; ok {
		return b
	}
	b, err := hosttest.LoadFile(hosttest.RepoPath(path...))
	if err != nil {
		target := "make build"
		switch {
		case len(path) > 1 && path[1] == "guests":
			target = "make guests"
		case path[0] == "host-test":
			// The C guests are committed; make cguests rebuilds them.
			target = "make cguests"
		}
		tb.Fatalf("load %s: %v (%s)", key, err, target)
	}
	benchWasms[key] = b
	return b
}

func benchNedryWasm(tb testing.TB) []byte { return benchLoad(tb, "build", "nedry.wasm") }
func benchNoopWasm(tb testing.TB) []byte  { return benchLoad(tb, "build", "guests", "noop.wasm") }

// The C reference guests (host-test/testdata/cguests): a no-op, and one that
// fetches the request headers with one host call and checks one prefix of
// :path (a request under /pass/ gets a 503 local reply).
func benchCNoopWasm(tb testing.TB) []byte {
	return benchLoad(tb, "host-test", "testdata", "cguests", "noop.wasm")
}

func benchCPrefixWasm(tb testing.TB) []byte {
	return benchLoad(tb, "host-test", "testdata", "cguests", "prefix.wasm")
}

// benchHost starts a one-worker host on the virtual clock with a fixed WASI
// seed, so every run draws the same sequence.
func benchHost(tb testing.TB, wasm []byte, cfg string, opts hosttest.Options) *hosttest.Host {
	tb.Helper()
	opts.PluginConfig = []byte(cfg)
	if opts.Seed == 0 {
		opts.Seed = 7
	}
	// Debug logs of injected faults would be formatted and copied into the
	// harness's log ring on every request; Envoy runs at info by default.
	if opts.LogLevel == 0 {
		opts.LogLevel = hosttest.LogLevelInfo
	}
	h, err := hosttest.New(context.Background(), wasm, opts)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// benchRequestConfig has one rule per benchmarked path. The seed fixes the
// decision sequence; every percentage is 0 or 100, so no path depends on a
// draw.
const benchRequestConfig = `{
  "seed": 42,
  "tick": "5ms",
  "rules": [
    {"name": "pass", "match": {"prefix": "/pass/"}, "abort": {"percent": 0, "http_status": 503}},
    {"name": "abort", "match": {"prefix": "/abort/"}, "abort": {"percent": 100, "http_status": 503}},
    {"name": "corrupt", "match": {"prefix": "/corrupt/"}, "corrupt": {"percent": 100,
      "request": [{"op": "remove", "name": "authorization"}, {"op": "set", "name": "x-request-id", "value": "nedry"}],
      "response": [{"op": "set", "name": "content-type", "value": "text/html"}]}},
    {"name": "delay", "match": {"prefix": "/delay/"}, "delay": {"percent": 100, "fixed": "100ms"}},
    {"name": "delay_long", "match": {"prefix": "/delay_long/"}, "delay": {"percent": 100, "fixed": "1h"}}
  ]
}`

// benchRequest is a typical proxied request: the four pseudo headers and a
// handful of regular ones, as a browser or a service mesh sends them.
func benchRequest(path string) hosttest.Request {
	return hosttest.Request{Headers: [][2]string{
		{":method", "GET"}, {":path", path}, {":authority", "api.example.com"}, {":scheme", "https"},
		{"user-agent", "bench/1.0"}, {"accept", "application/json"},
		{"authorization", "Bearer abc.def.ghi"}, {"x-request-id", "2f1e4c9a-7b44-4c1e-9a55-0d8c4c1b6a10"},
	}}
}

// benchClock sums the durations of one measured step over a benchmark.
type benchClock struct {
	total time.Duration
	n     int
}

func (c *benchClock) add(d time.Duration) { c.total += d; c.n++ }

func (c *benchClock) nsPer() float64 {
	if c.n == 0 {
		return 0
	}
	return float64(c.total.Nanoseconds()) / float64(c.n)
}

// benchRuleConfig builds n rules that match on route_name, path and prefix
// in turn, each with a fault that is never drawn (percent 0), then a last
// rule that the hit request matches. Rule names are short so 10,000 rules
// stay well under the 1 MiB config limit.
func benchRuleConfig(n int) string {
	var b strings.Builder
	b.WriteString(`{"seed": 1, "rules": [`)
	for i := 0; i < n-1; i++ {
		s := strconv.Itoa(i)
		b.WriteString(`{"name":"r` + s + `","match":{`)
		switch i % 3 {
		case 0:
			b.WriteString(`"route_name":"route-` + s + `"`)
		case 1:
			b.WriteString(`"path":"/exact/` + s + `"`)
		case 2:
			b.WriteString(`"prefix":"/p/` + s + `/"`)
		}
		b.WriteString(`},"abort":{"percent":0}},`)
	}
	b.WriteString(`{"name":"last","match":{"prefix":"/target/"},"abort":{"percent":0}}]}`)
	return b.String()
}

// benchQuantile returns the q quantile of sorted.
func benchQuantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)))
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

// benchEnvInt reads a positive integer from the environment, or def.
func benchEnvInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

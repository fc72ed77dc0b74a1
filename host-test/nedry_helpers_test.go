package hosttest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// The black-box tests in nedry_*_test.go drive every user-visible behaviour
// of the filter through the compiled build/nedry.wasm, as Envoy would. They
// are deterministic: a fixed WASI seed, a fixed decision seed in the
// configuration wherever a draw matters, and the virtual clock.

var (
	nedryOnce sync.Once
	nedryWasm []byte
	nedryErr  error
)

// nedry returns build/nedry.wasm, read once per test binary. A missing file
// fails the test and names the make target; it never skips.
func nedry(t testing.TB) []byte {
	t.Helper()
	nedryOnce.Do(func() {
		nedryWasm, nedryErr = hosttest.LoadFile(hosttest.RepoPath("build", "nedry.wasm"))
	})
	if nedryErr != nil {
		t.Fatalf("load filter: %v", nedryErr)
	}
	return nedryWasm
}

// newNedry starts a host running the filter with config cfg. opts may be
// the zero value; Seed defaults to 1 so WASI randomness is reproducible.
func newNedry(t testing.TB, cfg string, opts hosttest.Options) *hosttest.Host {
	t.Helper()
	opts.PluginConfig = []byte(cfg)
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	h, err := hosttest.New(context.Background(), nedry(t), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	// Runs before Close (cleanups run last in, first out).
	t.Cleanup(func() { noErrors(t, h) })
	return h
}

// expectedErrors holds the hosts of tests that make the filter recover
// from panics on purpose (x-nedry-panic).
var expectedErrors sync.Map // *hosttest.Host -> struct{}

// allowErrors exempts h from the nedry.errors check at the end of its test.
func allowErrors(h *hosttest.Host) { expectedErrors.Store(h, struct{}{}) }

// noErrors fails a test whose filter recovered from a panic of its own
// (nedry.errors): the stream went on, so the behaviour a test checks can
// look right while the filter is broken. newNedry runs it at the end of
// every test.
func noErrors(t testing.TB, h *hosttest.Host) {
	t.Helper()
	if _, ok := expectedErrors.LoadAndDelete(h); ok {
		return
	}
	if n := h.Metric("nedry.errors"); n != 0 {
		var errs []string
		for _, l := range h.Logs() {
			if l.Level == hosttest.LogLevelError {
				errs = append(errs, l.Message)
			}
		}
		t.Errorf("nedry.errors is %d at the end of the test, want 0 (the filter recovered from a bug of its own): %q", n, errs)
	}
}

// get builds a request from a method, a path and header name/value pairs.
func get(method, path string, headers ...string) hosttest.Request {
	r := hosttest.Request{Headers: [][2]string{{":method", method}, {":path", path}}}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Headers = append(r.Headers, [2]string{headers[i], headers[i+1]})
	}
	return r
}

// values returns every value of the header name in h, in order.
func values(h [][2]string, name string) []string {
	var out []string
	for _, kv := range h {
		if kv[0] == name {
			out = append(out, kv[1])
		}
	}
	return out
}

// logsAt returns the messages of logs at level.
func logsAt(logs []hosttest.LogEntry, level hosttest.LogLevel) []string {
	var out []string
	for _, l := range logs {
		if l.Level == level {
			out = append(out, l.Message)
		}
	}
	return out
}

// hasLog reports whether a log at level contains text.
func hasLog(logs []hosttest.LogEntry, level hosttest.LogLevel, text string) bool {
	for _, l := range logs {
		if l.Level == level && strings.Contains(l.Message, text) {
			return true
		}
	}
	return false
}

// noTrap fails the test when the host saw any guest trap.
func noTrap(t testing.TB, h *hosttest.Host) {
	t.Helper()
	if traps := h.Trapped(); len(traps) > 0 {
		t.Fatalf("%d guest traps, first: %v", len(traps), traps[0])
	}
}

// settled fails the test unless every stream ended, none is paused and the
// active-faults gauge is back to zero.
func settled(t testing.TB, h *hosttest.Host) {
	t.Helper()
	if n := h.ActiveStreams(); n != 0 {
		t.Fatalf("active streams: have %d, want 0", n)
	}
	if n := h.PausedStreams(); n != 0 {
		t.Fatalf("paused streams: have %d, want 0", n)
	}
	gaugeTick(h)
	if n := h.Metric("nedry.active_faults"); n != 0 {
		t.Fatalf("nedry.active_faults: have %d, want 0", n)
	}
}

// gaugeTick lets every root's next tick come, at most a second away (the
// longest tick): Nedry sends changes of nedry.active_faults at its ticks,
// so a stream reset while paused leaves the gauge one tick late.
func gaugeTick(h *hosttest.Host) { h.Advance(time.Second) }

// wantMetrics compares the named counters and gauges with want.
func wantMetrics(t testing.TB, h *hosttest.Host, want map[string]int64) {
	t.Helper()
	for name, w := range want {
		if have := h.Metric(name); have != w {
			t.Errorf("metric %s: have %d, want %d", name, have, w)
		}
	}
}

// ruleMetrics returns the six counters of rule, all at 0, for wantMetrics.
func ruleMetrics(rule string) map[string]int64 {
	m := map[string]int64{}
	for _, c := range []string{"matched", "aborts_injected", "delays_injected", "corruptions_injected", "resets_injected", "faults_overflow"} {
		m["nedry.rule."+rule+"."+c] = 0
	}
	return m
}

// with returns a copy of m with the given name/value pairs set.
func with(m map[string]int64, kv ...any) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = int64(kv[i+1].(int))
	}
	return out
}

// run starts req and, if a delay holds it, moves the virtual clock on by up
// to an hour, firing every due tick. It returns the result and the stream's
// context id, which the filter's logs name.
func run(h *hosttest.Host, req hosttest.Request) (hosttest.Result, uint32) {
	s := h.Start(req)
	if !s.Done() {
		h.Advance(time.Hour)
	}
	return s.Result(), s.ID()
}

// wantLogs compares the stream's logs at level with want, exactly.
func wantLogs(t testing.TB, r hosttest.Result, level hosttest.LogLevel, want ...string) {
	t.Helper()
	have := logsAt(r.Logs, level)
	if fmt.Sprintf("%q", have) != fmt.Sprintf("%q", want) {
		t.Fatalf("%s logs:\nhave %q\nwant %q", level, have, want)
	}
}

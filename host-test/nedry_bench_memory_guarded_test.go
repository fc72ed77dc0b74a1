package hosttest_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// benchGuardedConfig is the mixed workload with two guarded rules, in two
// generations that differ in rates, so that a push changes what streams see:
// one on errors, whose upstream fails a third of the time, so that it halts,
// cools down and resumes again and again; one on slowness, with a delay of
// its own, whose control requests are watched to their response.
func benchGuardedConfig(gen int) string {
	pct := []int{50, 30}[gen%2]
	return fmt.Sprintf(`{"seed": %d, "tick": "5ms", "rules": [
    {"name": "abort", "match": {"prefix": "/abort/"}, "abort": {"percent": %d, "http_status": 503}},
    {"name": "delay", "match": {"prefix": "/delay/"}, "delay": {"percent": %[2]d, "fixed": "10ms", "jitter": "5ms"}},
    {"name": "guard_err", "match": {"prefix": "/guard_err/"}, "abort": {"percent": 10},
      "halt": {"max_error_percent": 20, "window": "10s", "min_requests": 20, "cooldown": "1s"}},
    {"name": "guard_slow", "match": {"prefix": "/guard_slow/"}, "delay": {"percent": 10, "fixed": "1ms"},
      "halt": {"max_slow_percent": 50, "slow": "1s", "min_requests": 20}}
  ]}`, 99+gen, pct)
}

var benchGuardedPaths = []string{"/abort/a", "/delay/d", "/guard_err/e", "/guard_slow/s", "/nomatch/n"}

// BenchmarkMemoryGuarded is BenchmarkMemory with guardrails and config
// pushes: the workload of benchGuardedConfig, and a push of the other
// generation every 100,000 requests. Growth is measured from 10,000
// requests after the second push, as TestSoak measures from the end of a
// warm-up with pushes: while the first pushes are made, the heap takes a
// step up (4.75 to 5 MiB when measured, once, after the first or the
// second push as the collector's timing falls), as configurations of both
// generations come to be alive while another retires; the eight pushes
// after that must leave it flat. Targets: flat from there, at most 16 MiB
// per VM. It reports the halts, so a run shows that the guardrail really
// tripped and resumed.
func BenchmarkMemoryGuarded(b *testing.B) {
	h := benchHost(b, benchNedryWasm(b), benchGuardedConfig(0), hosttest.Options{})
	fail := upstreamStatus(503)
	n := 0
	next := func(r *rand.Rand) hosttest.Request {
		req := benchRequest(benchGuardedPaths[r.IntN(len(benchGuardedPaths))])
		if req.Headers[1][1] == "/guard_err/e" {
			if n++; n%3 == 0 {
				req.Upstream = fail
			}
		}
		return req
	}
	push := func(i int) {
		if i%100_000 != 0 {
			return
		}
		if err := h.Reconfigure([]byte(benchGuardedConfig(i / 100_000))); err != nil {
			b.Fatalf("push at request %d: %v", i, err)
		}
	}
	benchMemory(b, h, next, push, min(210_000, benchMillion/4), "push2")
	// A counter keeps its name, and so its value, across pushes, as in Envoy.
	halts := h.Metric("nedry.rule.guard_err.halts")
	if halts == 0 {
		b.Fatal("the guardrail never halted: the benchmark did not exercise it")
	}
	b.ReportMetric(float64(halts)/float64(b.N), "halts")
}

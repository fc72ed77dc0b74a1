package hosttest_test

import (
	"os"
	"slices"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// BenchmarkTimed checks that windows, ramps, guardrails and expires cost
// nothing to the traffic they do not concern: a request that matches no
// rule, or a rule without any of them, against the same configuration with
// a window, a ramp and a guardrail on another rule and an expires; and what
// a guardrail costs a matched request of its rule (guarded: the same rule
// with a halt). Each iteration runs the request on every host in turn,
// timed separately, so the ratios share machine state:
//   - x-plain: with timed rules elsewhere / the same module without them;
//   - x-prev: with timed rules elsewhere / NEDRY_BASE_WASM (a module built
//     from an earlier commit) without them, when that variable names one;
//   - cpu-share: the share of the loop's wall time the process was on a CPU
//     (see benchRunRounds).
func BenchmarkTimed(b *testing.B) {
	const plain = `{"seed": 42, "rules": [
	  {"name": "pass", "match": {"prefix": "/pass/"}, "abort": {"percent": 0}},
	  {"name": "other", "match": {"prefix": "/other-rule/"}, "abort": {"percent": 10}}]}`
	const timed = `{"seed": 42, "expires": "2030-01-01T00:00:00Z", "rules": [
	  {"name": "pass", "match": {"prefix": "/pass/"}, "abort": {"percent": 0}},
	  {"name": "other", "match": {"prefix": "/other-rule/"}, "active": {"days": ["mon","tue","wed","thu","fri"], "hours": "09:00-17:00"},
	   "abort": {"percent": 10, "ramp": {"to": 40, "over": "1h", "steps": 8}},
	   "halt": {"max_error_percent": 5, "max_slow_percent": 5, "slow": "1s"}}]}`
	var base []byte
	if p := os.Getenv("NEDRY_BASE_WASM"); p != "" {
		var err error
		if base, err = hosttest.LoadFile(p); err != nil {
			b.Fatal(err)
		}
	}
	// A Friday at 10:00 UTC: the window is open and no change is near.
	opts := hosttest.Options{Start: time.Date(2026, 6, 5, 10, 0, 0, 0, time.UTC)}
	// guarded is plain with a guardrail on the rule the request matches: its
	// control requests are watched to their response. A guardrail on errors
	// reads the response :status; one on slowness reads the clock at both
	// ends; one on both does both.
	guarded := func(halt string) string {
		return `{"seed": 42, "rules": [
	  {"name": "pass", "match": {"prefix": "/pass/"}, "abort": {"percent": 0}, "halt": ` + halt + `},
	  {"name": "other", "match": {"prefix": "/other-rule/"}, "abort": {"percent": 10}}]}`
	}
	// withPrev: the earlier module joins these rounds only. A third host in
	// the rotation makes every ratio read smaller, and the guardrail's cost
	// is judged on two.
	cases := []struct {
		name, path, cfg string
		withPrev        bool
	}{
		{"none", "/none/x", timed, true},
		{"pass", "/pass/x", timed, true},
		{"guarded", "/pass/x", guarded(`{"max_error_percent": 50, "max_slow_percent": 50, "slow": "1s"}`), false},
		{"guarded-errors", "/pass/x", guarded(`{"max_error_percent": 50}`), false},
		{"guarded-slow", "/pass/x", guarded(`{"max_slow_percent": 50, "slow": "1s"}`), false},
	}
	for _, c := range cases {
		path := c.path
		b.Run(c.name, func(b *testing.B) {
			hosts := []*hosttest.Host{
				benchHost(b, benchNedryWasm(b), plain, opts),
				benchHost(b, benchNedryWasm(b), c.cfg, opts),
			}
			if base != nil && c.withPrev {
				hosts = append(hosts, benchHost(b, base, plain, opts))
			}
			req := benchRequest(path)
			for _, h := range hosts {
				if msg := benchWantStatus(200, true)(h.Do(req)); msg != "" {
					b.Fatal(msg)
				}
			}
			// Ratios per round of 100 iterations, and their median, so one
			// slow stretch on a shared machine does not decide.
			const round = 100
			var xPlain, xPrev []float64
			var total benchClock
			clocks := make([]benchClock, len(hosts))
			cpu0, cpuOK := benchProcessCPU()
			wall0 := time.Now()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := range hosts {
					k := (i + j) % len(hosts) // rotate who goes first
					t0 := time.Now()
					hosts[k].Do(req)
					clocks[k].add(time.Since(t0))
				}
				if (i+1)%round == 0 || i == b.N-1 {
					xPlain = append(xPlain, clocks[1].nsPer()/clocks[0].nsPer())
					if len(hosts) > 2 {
						xPrev = append(xPrev, clocks[1].nsPer()/clocks[2].nsPer())
					}
					total.total += clocks[1].total
					total.n += clocks[1].n
					clear(clocks)
				}
			}
			b.StopTimer()
			if cpu1, ok := benchProcessCPU(); ok && cpuOK {
				b.ReportMetric(float64(cpu1-cpu0)/float64(time.Since(wall0)), "cpu-share")
			}
			b.ReportMetric(total.nsPer(), "ns/req")
			b.ReportMetric(median(xPlain), "x-plain")
			if len(xPrev) > 0 {
				b.ReportMetric(median(xPrev), "x-prev")
			}
		})
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

package hosttest_test

import (
	"math"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// A ramp's effective rate at each step matches the step's rate within 5σ
// of a binomial draw, and the rate gauge shows the step. The ramp starts at
// the push: 10% rising in 4 steps to 50% over 4 minutes (10, 20, 30, 40, then
// 50 from 4m on).
func TestRamp_effectiveRatePerStep(t *testing.T) {
	cfg := `{"seed": 7, "rules": [{"name": "r", "abort": {"percent": 10, "ramp": {"to": 50, "over": "4m", "steps": 4}},
	  "delay": {"percent": 0, "fixed": "1ms"}}]}`
	h := newNedry(t, cfg, hosttest.Options{Start: at(t, "2026-06-05T10:00:00.25Z")})
	const n = 2000
	for step, pct := range []float64{10, 20, 30, 40, 50} {
		if have, want := h.Metric("nedry.rule.r.abort_rate_ppm"), int64(pct*10000); have != want {
			t.Fatalf("step %d: nedry.rule.r.abort_rate_ppm %d, want %d", step, have, want)
		}
		before := h.Metric("nedry.rule.r.aborts_injected")
		for i := 0; i < n; i++ {
			run(h, get("GET", "/"))
		}
		got := float64(h.Metric("nedry.rule.r.aborts_injected") - before)
		p := pct / 100
		mean, sigma := n*p, math.Sqrt(n*p*(1-p))
		if math.Abs(got-mean) > 5*sigma {
			t.Fatalf("step %d (%v%%): %v aborts of %d, want %v ± %.1f (5σ)", step, pct, got, n, mean, 5*sigma)
		}
		h.Advance(time.Minute)
	}
	// A fault without a ramp keeps its rate and has no gauge.
	if _, ok := h.Metrics()["nedry.rule.r.delay_rate_ppm"]; ok {
		t.Fatal("a gauge for the delay, which has no ramp")
	}
	noTrap(t, h)
}

// Steps change at their exact instants, between ticks; a ramp with a start
// of its own stays at percent before it and reaches "to" after "over".
func TestRamp_stepsAndStart(t *testing.T) {
	cfg := `{"rules": [{"name": "r", "reset": {"percent": 0,
	  "ramp": {"to": 100, "over": "2m", "steps": 2, "start": "2026-06-05T10:01:00Z"}}}]}`
	h := newNedry(t, cfg, hosttest.Options{Start: at(t, "2026-06-05T10:00:00.5Z")})
	steps := []struct {
		to    string
		ppm   int64
		reset bool
	}{
		{"2026-06-05T10:00:59.999Z", 0, false}, // before start: percent
		{"2026-06-05T10:01:00Z", 0, false},     // step 0 of 2: still 0
		{"2026-06-05T10:01:59.999Z", 0, false},
		{"2026-06-05T10:02:00Z", 500000, false}, // step 1: 50%, the draw decides
		{"2026-06-05T10:03:00Z", 1000000, true}, // over: 100%
		{"2026-06-05T11:00:00Z", 1000000, true},
	}
	for _, s := range steps {
		h.Advance(at(t, s.to).Sub(h.Now()))
		r, _ := run(h, get("GET", "/"))
		if s.ppm != 500000 && r.Reset != s.reset {
			t.Fatalf("at %s: reset %v, want %v", s.to, r.Reset, s.reset)
		}
		if have := h.Metric("nedry.rule.r.reset_rate_ppm"); have != s.ppm {
			t.Fatalf("at %s: nedry.rule.r.reset_rate_ppm %d, want %d", s.to, have, s.ppm)
		}
	}
	noTrap(t, h)
}

package hosttest_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// within fails unless count is within 5 standard deviations of n*p, the
// binomial expectation. A fixed seed makes the count itself reproducible;
// the bound says the generator and the ppm threshold are right.
func within(t *testing.T, what string, count, n int, p float64) {
	t.Helper()
	mean := float64(n) * p
	sigma := math.Sqrt(float64(n) * p * (1 - p))
	if d := math.Abs(float64(count) - mean); d > 5*sigma {
		t.Fatalf("%s: %d of %d, want %.0f ± %.0f (5 sigma); off by %.1f sigma", what, count, n, mean, 5*sigma, d/sigma)
	}
	t.Logf("%s: %d of %d (expected %.0f, %.2f sigma)", what, count, n, mean, (float64(count)-mean)/sigma)
}

func TestStats_abortRate(t *testing.T) {
	const n = 200_000
	h := newNedry(t, `{"seed": 12345, "rules": [{"name": "s", "abort": {"percent": 12.5}}]}`, hosttest.Options{})
	req := get("GET", "/")
	aborts := 0
	for i := 0; i < n; i++ {
		r := h.Do(req)
		if r.LocalReply != nil {
			aborts++
		}
	}
	within(t, "aborts", aborts, n, 0.125)
	wantMetrics(t, h, map[string]int64{"nedry.rule.s.matched": n, "nedry.rule.s.aborts_injected": int64(aborts)})
	noTrap(t, h)
}

// Delay and abort are drawn independently: the share of requests that get
// both is the product of the rates.
func TestStats_delayAbortIndependent(t *testing.T) {
	const (
		n     = 100_000
		batch = 1000
	)
	h := newNedry(t, `{"seed": 99, "tick": "1ms", "max_active_faults": 1000000, "rules": [{"name": "s",
		"delay": {"percent": 25, "fixed": "1ms"}, "abort": {"percent": 12.5}}]}`, hosttest.Options{})
	var delays, aborts, both int
	streams := make([]*hosttest.Stream, 0, batch)
	for done := 0; done < n; done += batch {
		streams = streams[:0]
		for i := 0; i < batch; i++ {
			streams = append(streams, h.Start(get("GET", "/")))
		}
		h.Advance(time.Millisecond)
		for _, s := range streams {
			if !s.Done() {
				t.Fatal("stream still held after its delay")
			}
			r := s.Result()
			d, a := r.Held > 0, r.LocalReply != nil
			if d {
				delays++
			}
			if a {
				aborts++
			}
			if d && a {
				both++
			}
		}
	}
	within(t, "delays", delays, n, 0.25)
	within(t, "aborts", aborts, n, 0.125)
	within(t, "delay and abort", both, n, 0.25*0.125)
	// The abort rate among delayed requests is the abort rate.
	within(t, "aborts among delayed", both, delays, 0.125)
	settled(t, h)
}

// decisions runs n requests against a fresh host and returns what each
// request got, as one comparable string per request.
func decisions(t *testing.T, cfg string, wasiSeed int64, n int) []string {
	t.Helper()
	h := newNedry(t, cfg, hosttest.Options{Seed: wasiSeed})
	out := make([]string, n)
	for i := range out {
		r, _ := run(h, get("GET", "/", "x-id", "0123456789"))
		o := fmt.Sprintf("held=%v", r.Held)
		switch {
		case r.LocalReply != nil:
			o += " abort"
		case r.Reset:
			o += " reset"
		default:
			v, _ := r.Upstream.Header("x-id")
			o += " x-id=" + v
		}
		out[i] = o
	}
	noTrap(t, h)
	return out
}

const mixedRule = `"tick": "1ms", "rules": [{"name": "m",
	"delay": {"percent": 40, "fixed": "5ms", "jitter": "4ms"}, "abort": {"percent": 30},
	"corrupt": {"percent": 50, "request": [{"op": "garble", "name": "x-id"}]}, "reset": {"percent": 10}}]`

// A fixed seed gives the same decisions, jitter and garbled bytes on every
// run, whatever entropy the host offers.
func TestStats_fixedSeedRepeats(t *testing.T) {
	cfg := `{"seed": 4242, ` + mixedRule + `}`
	a := decisions(t, cfg, 1, 1000)
	b := decisions(t, cfg, 2, 1000)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("request %d: first run %q, second run %q", i, a[i], b[i])
		}
	}
	kinds := map[string]bool{}
	for _, o := range a {
		for _, k := range []string{"abort", "reset", "x-id=0123456789", "held=0s"} {
			if strings.Contains(o, k) {
				kinds[k] = true
			}
		}
	}
	if len(kinds) != 4 {
		t.Fatalf("the sequence lacks variety: %v", kinds)
	}
	// Another seed gives another sequence.
	c := decisions(t, `{"seed": 4243, `+mixedRule+`}`, 1, 1000)
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Fatal("seeds 4242 and 4243 gave the same 1000 decisions")
	}
}

// Seed 0 takes the seed from the host's entropy (WASI random_get): hosts
// with different entropy decide differently. 1000 requests with several
// independent draws each cannot coincide by chance (odds far below
// 2^-1000), so this never flakes.
func TestStats_seedZeroUsesHostEntropy(t *testing.T) {
	cfg := `{"seed": 0, ` + mixedRule + `}`
	a := decisions(t, cfg, 1, 1000)
	b := decisions(t, cfg, 2, 1000)
	if fmt.Sprint(a) == fmt.Sprint(b) {
		t.Fatal("seed 0 gave the same decisions on hosts with different entropy")
	}
	// The same host entropy reproduces the sequence: it comes from the
	// host's random_get and nothing else.
	c := decisions(t, cfg, 1, 1000)
	if fmt.Sprint(a) != fmt.Sprint(c) {
		t.Fatal("seed 0 with the same host entropy gave different decisions: the filter uses another source")
	}
}

package fault

import (
	"math"
	"testing"
	"time"

	"github.com/nedry-chaos/nedry/filter/internal/config"
)

func TestRand_splitmix64(t *testing.T) {
	// Reference outputs of splitmix64 seeded with 0.
	want := []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f}
	r := NewRand(0)
	for i, w := range want {
		if have := r.Uint64(); have != w {
			t.Fatalf("value %d = %#x, want %#x", i, have, w)
		}
	}
}

func TestRand_sameSeedSameSequence(t *testing.T) {
	a, b, c := NewRand(42), NewRand(42), NewRand(43)
	same := true
	for i := 0; i < 1000; i++ {
		x, y, z := a.Uint64(), b.Uint64(), c.Uint64()
		if x != y {
			t.Fatalf("draw %d: seed 42 gave %d and %d", i, x, y)
		}
		same = same && x == z
	}
	if same {
		t.Fatal("seeds 42 and 43 gave the same sequence")
	}
}

func TestRand_ranges(t *testing.T) {
	r := NewRand(7)
	var maxPPM uint32
	for i := 0; i < 100000; i++ {
		p := r.PPM()
		if p >= 1000000 {
			t.Fatalf("PPM() = %d, want < 1e6", p)
		}
		maxPPM = max(maxPPM, p)
		if n := r.Int63n(10); n < 0 || n >= 10 {
			t.Fatalf("Int63n(10) = %d", n)
		}
	}
	if maxPPM < 999000 {
		t.Fatalf("max PPM over 100k draws = %d, want close to 1e6", maxPPM)
	}
	// Int63n is uniform: each of 7 buckets within 5 sigma.
	const n = 70000
	var counts [7]int
	for i := 0; i < n; i++ {
		counts[r.Int63n(7)]++
	}
	sigma := math.Sqrt(n * (1.0 / 7) * (6.0 / 7))
	for i, c := range counts {
		if math.Abs(float64(c)-n/7.0) > 5*sigma {
			t.Fatalf("bucket %d has %d of %d", i, c, n)
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Int63n(0) did not panic")
		}
	}()
	r.Int63n(0)
}

func ruleWith(delay, abort, corrupt, reset *uint32) *config.Rule {
	r := &config.Rule{Name: "p"}
	if delay != nil {
		r.Delay = &config.Delay{PPM: *delay, Fixed: 100 * time.Millisecond}
	}
	if abort != nil {
		r.Abort = &config.Abort{PPM: *abort, HTTPStatus: 503, GRPCStatus: -1}
	}
	if corrupt != nil {
		r.Corrupt = &config.Corrupt{PPM: *corrupt}
	}
	if reset != nil {
		r.Reset = &config.Reset{PPM: *reset}
	}
	return r
}

func ppmp(v uint32) *uint32 { return &v }

func TestDecide_drawOrder(t *testing.T) {
	// Decide compares draw k with the k-th fault in the order delay, abort,
	// corrupt, reset. Replay the draws to know which ones fall under 50%.
	const seed = 99
	for round := 0; round < 50; round++ {
		ref := NewRand(seed)
		for i := 0; i < round*4; i++ {
			ref.Uint64()
		}
		var under [4]bool
		for k := range under {
			under[k] = ref.PPM() < 500000
		}
		r := NewRand(seed)
		for i := 0; i < round; i++ {
			Decide(ruleWith(nil, nil, nil, nil), r)
		}
		half := ppmp(500000)
		d := Decide(ruleWith(half, half, half, half), r)
		have := [4]bool{d.Delayed, d.Abort, d.Corrupt, d.Reset}
		if have != under {
			t.Fatalf("round %d: decisions %v, draws under 50%% %v", round, have, under)
		}
		if next, want := r.Uint64(), ref.Uint64(); next != want {
			t.Fatalf("round %d: Decide did not consume exactly four draws", round)
		}
	}
}

func TestDecide_unconfiguredStillDraws(t *testing.T) {
	a, b := NewRand(5), NewRand(5)
	Decide(ruleWith(nil, nil, nil, nil), a)
	Decide(ruleWith(ppmp(1), ppmp(2), ppmp(3), ppmp(4)), b)
	if a.Uint64() != b.Uint64() {
		t.Fatal("a rule without faults consumed a different number of draws")
	}
	d := Decide(ruleWith(nil, nil, nil, nil), NewRand(1))
	if d.Any() {
		t.Fatalf("rule without faults decided %+v", d)
	}
	if d := Decide(nil, NewRand(1)); d.Any() || d.Rule != nil {
		t.Fatalf("nil rule decided %+v", d)
	}
}

func TestDecide_extremes(t *testing.T) {
	all := ruleWith(ppmp(1000000), ppmp(1000000), ppmp(1000000), ppmp(1000000))
	none := ruleWith(ppmp(0), ppmp(0), ppmp(0), ppmp(0))
	r := NewRand(3)
	for i := 0; i < 10000; i++ {
		if d := Decide(all, r); !d.Delayed || !d.Abort || !d.Corrupt || !d.Reset || d.Delay != 100*time.Millisecond {
			t.Fatalf("100%% rule decided %+v", d)
		}
		if d := Decide(none, r); d.Any() {
			t.Fatalf("0%% rule decided %+v", d)
		}
	}
}

func TestDecide_rates(t *testing.T) {
	const n = 200000
	within := func(name string, count int, p float64) {
		t.Helper()
		mean := n * p
		sigma := math.Sqrt(n * p * (1 - p))
		if math.Abs(float64(count)-mean) > 5*sigma {
			t.Fatalf("%s: %d of %d, want %.0f ± %.0f", name, count, n, mean, 5*sigma)
		}
	}
	rule := ruleWith(ppmp(125000), ppmp(500000), ppmp(250000), ppmp(1))
	r := NewRand(2024)
	var delays, aborts, corrupts, resets, abortCorrupt, delayAbort int
	for i := 0; i < n; i++ {
		d := Decide(rule, r)
		delays += b2i(d.Delayed)
		aborts += b2i(d.Abort)
		corrupts += b2i(d.Corrupt)
		resets += b2i(d.Reset)
		abortCorrupt += b2i(d.Abort && d.Corrupt)
		delayAbort += b2i(d.Delayed && d.Abort)
	}
	within("delay 12.5%", delays, 0.125)
	within("abort 50%", aborts, 0.5)
	within("corrupt 25%", corrupts, 0.25)
	within("reset 0.0001%", resets, 0.000001)
	// Independence: the joint rate is the product of the rates.
	within("abort and corrupt", abortCorrupt, 0.5*0.25)
	within("delay and abort", delayAbort, 0.125*0.5)
}

// Decide is DecideRates at the configured rates, written out for speed:
// both must draw alike for every mix of configured faults.
func TestDecide_sameAsDecideRates(t *testing.T) {
	rates := []*uint32{nil, ppmp(0), ppmp(1), ppmp(300000), ppmp(999999), ppmp(1000000)}
	for i := 0; i < 6*6*6*6; i++ {
		rule := ruleWith(rates[i%6], rates[i/6%6], rates[i/36%6], rates[i/216%6])
		if rule.Delay != nil {
			rule.Delay.Jitter = 40 * time.Millisecond
		}
		want := rule.Rates()
		a, b := NewRand(uint64(i)), NewRand(uint64(i))
		for k := 0; k < 50; k++ {
			if x, y := Decide(rule, a), DecideRates(rule, &want, b); x != y {
				t.Fatalf("rule %d, draw %d: Decide %+v, DecideRates %+v", i, k, x, y)
			}
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestDecide_sameSeedSameDecisions(t *testing.T) {
	rule := ruleWith(ppmp(300000), ppmp(300000), ppmp(300000), ppmp(300000))
	rule.Delay.Jitter = 50 * time.Millisecond
	a, b := NewRand(77), NewRand(77)
	for i := 0; i < 10000; i++ {
		if x, y := Decide(rule, a), Decide(rule, b); x != y {
			t.Fatalf("decision %d differs: %+v and %+v", i, x, y)
		}
	}
}

func TestDecide_jitter(t *testing.T) {
	tests := []struct {
		name            string
		fixed, jitter   time.Duration
		lo, hi          time.Duration
		wantLo, wantHi  bool // the extremes are reached (within 1%)
		wantMeanAbout   time.Duration
		meanToleranceMs float64
	}{
		{"no jitter", 250 * time.Millisecond, 0, 250 * time.Millisecond, 250 * time.Millisecond, true, true, 250 * time.Millisecond, 0},
		{"symmetric", 100 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond, 150 * time.Millisecond, true, true, 100 * time.Millisecond, 1},
		{"clamped at zero", 10 * time.Millisecond, 50 * time.Millisecond, 0, 60 * time.Millisecond, true, true, 0, -1},
		{"one hour", time.Hour, time.Hour, 0, 2 * time.Hour, true, true, time.Hour, 30000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rule := &config.Rule{Delay: &config.Delay{PPM: 1000000, Fixed: tc.fixed, Jitter: tc.jitter, Phase: config.PhaseResponse}}
			r := NewRand(11)
			lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
			var sum float64
			zeros := 0
			const n = 50000
			for i := 0; i < n; i++ {
				d := Decide(rule, r)
				if !d.Delayed || d.Phase != config.PhaseResponse {
					t.Fatalf("decision %+v", d)
				}
				if d.Delay < tc.lo || d.Delay > tc.hi {
					t.Fatalf("delay %v outside [%v, %v]", d.Delay, tc.lo, tc.hi)
				}
				lo, hi = min(lo, d.Delay), max(hi, d.Delay)
				sum += float64(d.Delay)
				if d.Delay == 0 {
					zeros++
				}
			}
			span := float64(tc.hi - tc.lo)
			if float64(lo-tc.lo) > span/100 || float64(tc.hi-hi) > span/100 {
				t.Fatalf("observed [%v, %v], want close to [%v, %v]", lo, hi, tc.lo, tc.hi)
			}
			if tc.meanToleranceMs >= 0 {
				mean := time.Duration(sum / n)
				if math.Abs(float64(mean-tc.wantMeanAbout))/1e6 > tc.meanToleranceMs {
					t.Fatalf("mean %v, want %v", mean, tc.wantMeanAbout)
				}
			} else if zeros < n/3 {
				// fixed-jitter = -40ms: 40 of the 100ms range clamps to 0.
				t.Fatalf("%d of %d delays clamped to 0, want about 40%%", zeros, n)
			}
		})
	}
}

func TestDecide_noAllocs(t *testing.T) {
	rule := ruleWith(ppmp(500000), ppmp(500000), ppmp(500000), ppmp(500000))
	rule.Delay.Jitter = time.Millisecond
	r := NewRand(1)
	if n := testing.AllocsPerRun(1000, func() { Decide(rule, r) }); n != 0 {
		t.Fatalf("Decide allocates %v times", n)
	}
}

func TestTag(t *testing.T) {
	c, err := config.Parse([]byte(`{"rules":[{"name":"payments","abort":{"percent":100},"corrupt":{"percent":100,"request":[{"op":"remove","name":"a"}]}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	rule := c.Rules[0]
	tests := []struct {
		name string
		d    Decision
		rule string
		want string
	}{
		{"abort", Decision{Rule: rule, Abort: true}, "payments", "payments; abort"},
		{"delay and corrupt", Decision{Rule: rule, Delayed: true, Corrupt: true}, "payments", "payments; delay,corrupt"},
		{"all", Decision{Rule: rule, Delayed: true, Abort: true, Corrupt: true, Reset: true}, "payments", "payments; delay,abort,corrupt,reset"},
		{"none", Decision{Rule: rule}, "payments", ""},
		{"other name", Decision{Rule: rule, Reset: true}, "header_control", "header_control; reset"},
		{"no rule", Decision{Abort: true, Delayed: true}, "header_control", "header_control; delay,abort"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if have := Tag(tc.rule, tc.d); have != tc.want {
				t.Fatalf("Tag = %q, want %q", have, tc.want)
			}
		})
	}
	d := Decision{Rule: rule, Abort: true, Corrupt: true}
	if n := testing.AllocsPerRun(100, func() { _ = Tag("payments", d) }); n != 0 {
		t.Fatalf("Tag allocates %v times for a rule's own decision", n)
	}
}

func TestRuleMetric(t *testing.T) {
	if have, want := RuleMetric("payments", CounterAbortsInjected), "nedry.rule.payments.aborts_injected"; have != want {
		t.Fatalf("RuleMetric = %q, want %q", have, want)
	}
	if len(RuleCounters) != 6 {
		t.Fatalf("RuleCounters has %d entries", len(RuleCounters))
	}
}

func BenchmarkDecide(b *testing.B) {
	rule := ruleWith(ppmp(125000), ppmp(100000), ppmp(50000), ppmp(10000))
	rule.Delay.Jitter = 50 * time.Millisecond
	r := NewRand(1)
	b.ReportAllocs()
	var d Decision
	for b.Loop() {
		d = Decide(rule, r)
	}
	_ = d
}

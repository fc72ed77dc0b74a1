// Package fault makes the per-request fault decisions: whether a matched rule
// delays, aborts, corrupts or resets a request, what header-control headers
// ask for, which paused streams are due, and how headers are corrupted.
//
// It runs natively in tests and inside the guest (GOOS=wasip1), makes no ABI
// calls and does not allocate on the decision path.
package fault

import (
	"math/bits"
	"time"

	"github.com/nedry-chaos/nedry/filter/internal/config"
)

// Rand is a small, fast splitmix64 generator. It is not safe for concurrent
// use; a proxy-wasm VM is single-threaded, so the plugin keeps one per root
// context. The same seed gives the same sequence on every platform.
type Rand struct {
	state uint64
}

// NewRand returns a generator seeded with seed.
func NewRand(seed uint64) *Rand {
	return &Rand{state: seed}
}

// Uint64 returns the next uniformly distributed 64-bit value.
func (r *Rand) Uint64() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// ppmOf maps a 64-bit draw to [0, 1e6) by its high bits; the bias is below
// one in 10^13.
func ppmOf(x uint64) uint32 {
	hi, _ := bits.Mul64(x, 1000000)
	return uint32(hi)
}

// PPM returns a value uniform in [0, 1e6), for comparison with a rule's
// parts-per-million rate.
func (r *Rand) PPM() uint32 {
	return ppmOf(r.Uint64())
}

// Int63n returns a value uniform in [0, n). It panics if n <= 0, like
// math/rand.
func (r *Rand) Int63n(n int64) int64 {
	if n <= 0 {
		panic("fault: Int63n with n <= 0")
	}
	// Lemire's multiply-and-reject: unbiased, usually without a division.
	un := uint64(n)
	hi, lo := bits.Mul64(r.Uint64(), un)
	if lo < un {
		threshold := -un % un
		for lo < threshold {
			hi, lo = bits.Mul64(r.Uint64(), un)
		}
	}
	return int64(hi)
}

// Decision is what Decide drew for one request.
type Decision struct {
	// Rule is the matched rule.
	Rule *config.Rule
	// Abort asks for a local reply with Rule.Abort's status and body.
	Abort bool
	// Delayed says the delay fault was drawn; Delay is how long to hold the
	// stream, which may be zero when jitter cancels Fixed.
	Delay   time.Duration
	Delayed bool
	// Phase is where the delay holds the stream.
	Phase config.Phase
	// Corrupt asks for Rule.Corrupt's header ops.
	Corrupt bool
	// Reset asks for the stream to be closed.
	Reset bool
	// Duplicate asks for copies of the request (Rule.Duplicate); the
	// plugin draws it with Duplicated.
	Duplicate bool
}

// Faults returns the set of faults d injects, to index Rule.Tag.
func (d Decision) Faults() config.FaultSet {
	var f config.FaultSet
	if d.Delayed {
		f |= config.FaultDelay
	}
	if d.Abort {
		f |= config.FaultAbort
	}
	if d.Corrupt {
		f |= config.FaultCorrupt
	}
	if d.Reset {
		f |= config.FaultReset
	}
	if d.Duplicate {
		f |= config.FaultDuplicate
	}
	return f
}

// Any reports whether d injects any fault.
func (d Decision) Any() bool { return d.Faults() != 0 }

// Decide draws the faults of rule for one request. It always consumes exactly
// four values from r, in the fixed order delay, abort, corrupt, reset, even
// for faults the rule does not configure, so a fixed seed yields the same
// decisions whatever the rule looks like and every fault is drawn
// independently. The delay jitter comes from the low bits of the delay draw,
// which the rate comparison does not use. Decide does not allocate.
//
// It is DecideRates at the configured rates, written out: every rule
// without a ramp or sample_by comes here, and building the rates and
// passing the decision through DecideRates and decide cost a matched
// request three calls and two copies of the Decision, about 0.2 us of
// guest time in wasm (BenchmarkRequest/matched_no_fault).
// TestDecide_sameAsDecideRates keeps the two the same.
func Decide(rule *config.Rule, r *Rand) Decision {
	d := Decision{Rule: rule}
	if rule == nil {
		return d
	}
	x := r.Uint64()
	pa, pc, pr := r.PPM(), r.PPM(), r.PPM()
	if dl := rule.Delay; dl != nil && ppmOf(x) < dl.PPM {
		d.Delayed = true
		d.Phase = dl.Phase
		d.Delay = jitter(dl.Fixed, dl.Jitter, uint32(x))
	}
	// A fault that is not configured has rate 0: its draw is still made.
	d.Abort = rule.Abort != nil && pa < rule.Abort.PPM
	d.Corrupt = rule.Corrupt != nil && pc < rule.Corrupt.PPM
	d.Reset = rule.Reset != nil && pr < rule.Reset.PPM
	return d
}

// DecideRates is Decide with the rates of the rule's faults given in parts
// per million, in draw order (delay, abort, corrupt, reset), as a ramp sets
// them at the moment; a fault the rule does not configure must have rate 0.
func DecideRates(rule *config.Rule, rates *[4]uint32, r *Rand) Decision {
	if rule == nil {
		return Decision{}
	}
	x := r.Uint64()
	pa, pc, pr := r.PPM(), r.PPM(), r.PPM()
	return decide(rule, rates, ppmOf(x), uint32(x), pa, pc, pr)
}

// decide compares rates with the delay, abort, corrupt and reset draws pd,
// pa, pc, pr (each in [0, 1e6)); u are the 32 random bits of the delay
// jitter.
func decide(rule *config.Rule, rates *[4]uint32, pd, u, pa, pc, pr uint32) Decision {
	d := Decision{Rule: rule}
	if dl := rule.Delay; dl != nil && pd < rates[0] {
		d.Delayed = true
		d.Phase = dl.Phase
		d.Delay = jitter(dl.Fixed, dl.Jitter, u)
	}
	// A fault that is not configured has rate 0: its draw is still made.
	d.Abort = pa < rates[1]
	d.Corrupt = pc < rates[2]
	d.Reset = pr < rates[3]
	return d
}

// jitter returns fixed plus an offset uniform in [-j, +j] taken from the 32
// random bits u, clamped at zero.
func jitter(fixed, j time.Duration, u uint32) time.Duration {
	if j <= 0 {
		return fixed
	}
	span := uint64(2*j) + 1
	off, _ := bits.Mul64(uint64(u)<<32, span)
	d := fixed - j + time.Duration(off)
	if d < 0 {
		return 0
	}
	return d
}

// Tag returns the value of the response tag header for decision d of rule
// ruleName, such as "payments; delay,corrupt". For d.Rule it returns the
// string the rule precomputed, without allocating.
func Tag(ruleName string, d Decision) string {
	if d.Rule != nil && d.Rule.Name == ruleName {
		return d.Rule.Tag(d.Faults())
	}
	return config.BuildTag(ruleName, d.Faults())
}

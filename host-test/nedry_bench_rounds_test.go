package hosttest_test

import (
	"slices"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// Interleaved rounds: the way BenchmarkReference and BenchmarkRules compare
// hosts that must be measured under the same conditions.
//
// A ratio between two benchmarks run one after the other compares two
// moments of a shared machine: another process starting a build, or the Go
// heap of the test binary growing between them, moves one side only. Here
// every host (a lane) runs in every round: a round cycles over the lanes,
// a short batch of requests on each in turn, starting one lane further each
// cycle so no lane always follows the same one. A batch keeps one host's
// caches warm for consecutive requests, as an Envoy worker running one
// filter has them.
//
// A lane's time in a round is its median batch, not the mean: on a shared
// machine a batch of a few tens of µs is now and then descheduled for
// milliseconds, which would make the mean of a round a measure of who ran
// when the machine was busy (per-round ratios of means ranged from 0.04 to
// 17 in one run). Costs that recur in most batches stay in the median; the
// harness's own GC, which falls in a few batches of every lane alike, does
// not. A ratio is taken per round, between lanes that shared the same
// stretch of time; the median of the per-round ratios is the result and
// their spread (lowest and highest round) says how far to trust it.

// benchBatch is the number of consecutive requests a lane runs before the
// next lane's turn: enough for the host's and the guest's caches to be warm
// for the rest of the batch, few enough (tens of µs) that a disturbance of
// the machine, which lasts milliseconds, spans batches of every lane.
const benchBatch = 16

// benchRoundCount is the number of rounds of a run: the b.N requests of each
// lane are split into this many rounds. Odd, so the median is one round's
// value.
const benchRoundCount = 21

// benchLane is one host and the request it is measured with. A lane with
// observe set runs a host whose CallObserver sums the guest's own time (all
// its export calls, a nested proxy_on_memory_allocate included); its wall
// time then holds the observer's clock reads, so the harness time of a
// guest is read from a lane without observer.
type benchLane struct {
	name    string
	h       *hosttest.Host
	req     hosttest.Request
	observe bool

	guest      *time.Duration // summed by the observer, shared by the lanes of one host
	wall, inVM []float64      // ns per request, one value per round
	calls      float64        // host calls per request, counted after the timed loop

	batchWall, batchVM []float64 // ns per request of each batch of the round
}

// newBenchLane starts the lane's host, with an observer when observe is set.
func newBenchLane(b *testing.B, name string, wasm []byte, cfg string, req hosttest.Request, observe bool) *benchLane {
	b.Helper()
	l := &benchLane{name: name, req: req, observe: observe, guest: new(time.Duration)}
	var opts hosttest.Options
	if observe {
		guest := l.guest
		opts.CallObserver = func(_ string, d time.Duration) { *guest += d }
	}
	l.h = benchHost(b, wasm, cfg, opts)
	return l
}

// sameHost is another lane on l's host (and observer) with its own request:
// two requests measured on one VM, as one Envoy worker serves both.
func (l *benchLane) sameHost(name string, req hosttest.Request) *benchLane {
	return &benchLane{name: name, h: l.h, req: req, observe: l.observe, guest: l.guest}
}

// check runs the lane's request once and fails the benchmark when check
// finds it wrong, so a benchmark never measures a broken path.
func (l *benchLane) check(b *testing.B, check func(hosttest.Result) string) {
	b.Helper()
	if msg := check(l.h.Do(l.req)); msg != "" {
		b.Fatalf("%s: %s", l.name, msg)
	}
}

// benchRunRounds runs b.N requests on every lane in benchRoundCount
// interleaved rounds and records each lane's time per request per round.
func benchRunRounds(b *testing.B, lanes []*benchLane) {
	rounds := min(benchRoundCount, b.N)
	per := b.N / rounds
	for _, l := range lanes {
		l.wall = make([]float64, 0, rounds)
		l.inVM = make([]float64, 0, rounds)
		l.h.Do(l.req) // warm: the first request of a batch is not a cold one
	}
	batches := (per + benchBatch - 1) / benchBatch
	for _, l := range lanes {
		l.batchWall, l.batchVM = make([]float64, 0, batches), make([]float64, 0, batches)
	}
	cpu0, cpuOK := benchProcessCPU()
	wall0 := time.Now()
	b.ResetTimer()
	for r := range rounds {
		for _, l := range lanes {
			l.batchWall, l.batchVM = l.batchWall[:0], l.batchVM[:0]
		}
		for done, c := 0, 0; done < per; done, c = done+benchBatch, c+1 {
			n := min(benchBatch, per-done)
			for k := range lanes {
				l := lanes[(r+c+k)%len(lanes)]
				g0 := *l.guest
				t0 := time.Now()
				for range n {
					l.h.Do(l.req)
				}
				d := time.Since(t0)
				l.batchWall = append(l.batchWall, float64(d.Nanoseconds())/float64(n))
				l.batchVM = append(l.batchVM, float64((*l.guest-g0).Nanoseconds())/float64(n))
			}
		}
		for _, l := range lanes {
			l.wall = append(l.wall, benchMedian(l.batchWall))
			l.inVM = append(l.inVM, benchMedian(l.batchVM))
		}
	}
	b.StopTimer()
	// The share of the loop's wall time the process was on a CPU: near 1 on
	// a quiet machine (the loop is one thread; the Go GC's own threads can
	// push it past 1), far below when other work takes the cores. A slow run
	// with a low share was descheduled, not slow.
	if cpu1, ok := benchProcessCPU(); ok && cpuOK {
		b.ReportMetric(float64(cpu1-cpu0)/float64(time.Since(wall0)), "cpu-share")
	}
	for _, l := range lanes {
		l.calls = benchCallsPer(l.h, l.req)
		if traps := l.h.Trapped(); len(traps) > 0 {
			b.Fatalf("%s: guest trapped: %v", l.name, traps[0])
		}
	}
}

// benchCallsPer counts the host calls of req on h, outside the timed loop
// (lanes may share a host, so the host's total cannot be split by lane).
func benchCallsPer(h *hosttest.Host, req hosttest.Request) float64 {
	const n = 16
	c0 := h.HostCalls()
	for range n {
		h.Do(req)
	}
	return float64(h.HostCalls()-c0) / n
}

// benchSpread is a per-round series: its median, lowest and highest.
type benchSpread struct{ median, lo, hi float64 }

func newBenchSpread(vs []float64) benchSpread {
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s) == 0 {
		return benchSpread{}
	}
	return benchSpread{median: s[len(s)/2], lo: s[0], hi: s[len(s)-1]}
}

// benchMedian sorts vs in place and returns its middle value.
func benchMedian(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	slices.Sort(vs)
	return vs[len(vs)/2]
}

// benchRatios divides num by den round by round.
func benchRatios(num, den []float64) []float64 {
	out := make([]float64, len(num))
	for i := range num {
		out[i] = num[i] / den[i]
	}
	return out
}

// benchDiffs subtracts den from num round by round.
func benchDiffs(num, den []float64) []float64 {
	out := make([]float64, len(num))
	for i := range num {
		out[i] = num[i] - den[i]
	}
	return out
}

// report emits the median as unit and the spread as unit-lo and unit-hi.
func (s benchSpread) report(b *testing.B, unit string) {
	b.ReportMetric(s.median, unit)
	b.ReportMetric(s.lo, unit+"-lo")
	b.ReportMetric(s.hi, unit+"-hi")
}

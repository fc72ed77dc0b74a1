package hosttest_test

import (
	"os"
	"sort"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// BenchmarkBaseline compares build/nedry.wasm with another build of the
// filter, named by NEDRY_BASELINE_WASM (typically the previous commit's
// module), on the paths a feature must leave as cheap as they were:
// no-match, matched-no-fault and abort. Each iteration runs one floor request, one
// baseline request and one current request on their own hosts, so all three
// share CPU frequency, cache and GC state. x-baseline is current over
// baseline, end to end; x-baseline-above-floor compares the guests' own
// cost (the harness's share subtracted); x-baseline-guest the time spent in
// guest callbacks only (Options.CallObserver), the least noisy. All are medians over batches of
// 256 iterations, so a burst of load from elsewhere on a shared machine
// spoils one batch, not the result. Without the variable there is
// nothing to compare with, and the benchmark says so.
func BenchmarkBaseline(b *testing.B) {
	path := os.Getenv("NEDRY_BASELINE_WASM")
	if path == "" {
		b.Skip("set NEDRY_BASELINE_WASM to a build of the filter to compare build/nedry.wasm with")
	}
	base, err := hosttest.LoadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, path string
		want       func(hosttest.Result) string
	}{
		{"no_match", "/other/x", benchWantStatus(200, true)},
		{"matched_no_fault", "/pass/x", benchWantStatus(200, true)},
		{"abort", "/abort/x", benchWantStatus(503, false)},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := benchRequest(c.path)
			floor := benchHost(b, benchNoopWasm(b), "", hosttest.Options{})
			var guestOld, guestCur time.Duration
			old := benchHost(b, base, benchRequestConfig, hosttest.Options{
				CallObserver: func(_ string, d time.Duration) { guestOld += d }})
			cur := benchHost(b, benchNedryWasm(b), benchRequestConfig, hosttest.Options{
				CallObserver: func(_ string, d time.Duration) { guestCur += d }})
			for _, h := range []*hosttest.Host{old, cur} {
				if msg := c.want(h.Do(req)); msg != "" {
					b.Fatal(msg)
				}
			}
			var f, o, n, bf, bo, bn benchClock
			var ratios, above, guest []float64
			guestOld, guestCur = 0, 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// The order alternates: whichever runs second runs warmer.
				first, second, fc, sc := old, cur, &bo, &bn
				if i%2 == 1 {
					first, second, fc, sc = cur, old, &bn, &bo
				}
				t0 := time.Now()
				floor.Do(req)
				t1 := time.Now()
				first.Do(req)
				t2 := time.Now()
				second.Do(req)
				t3 := time.Now()
				bf.add(t1.Sub(t0))
				fc.add(t2.Sub(t1))
				sc.add(t3.Sub(t2))
				if bf.n == baselineBatch || i == b.N-1 {
					ratios = append(ratios, bn.nsPer()/bo.nsPer())
					above = append(above, (bn.nsPer()-bf.nsPer())/(bo.nsPer()-bf.nsPer()))
					guest = append(guest, float64(guestCur)/float64(guestOld))
					guestOld, guestCur = 0, 0
					f.total, o.total, n.total = f.total+bf.total, o.total+bo.total, n.total+bn.total
					f.n, o.n, n.n = f.n+bf.n, o.n+bo.n, n.n+bn.n
					bf, bo, bn = benchClock{}, benchClock{}, benchClock{}
				}
			}
			b.StopTimer()
			b.ReportMetric(n.nsPer(), "ns/req")
			b.ReportMetric(o.nsPer(), "baseline-ns/req")
			b.ReportMetric(baselineMedian(ratios), "x-baseline")
			b.ReportMetric(baselineMedian(above), "x-baseline-above-floor")
			b.ReportMetric(baselineMedian(guest), "x-baseline-guest")
		})
	}
}

// baselineBatch is the number of iterations per ratio sample.
const baselineBatch = 256

func baselineMedian(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	return s[len(s)/2]
}

package hosttest_test

import (
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// benchDuplicateConfig duplicates once, at the next tick (1ms), a request
// with a body of up to 64 KiB.
const benchDuplicateConfig = `{"seed": 1, "tick": "1ms", "rules": [
  {"name": "dup", "match": {"prefix": "/dup/"}, "duplicate": {"percent": 100, "after": "0s", "cluster": "backend"}},
  {"name": "pass", "match": {"prefix": "/pass/"}, "duplicate": {"percent": 0, "cluster": "backend"}}
]}`

// BenchmarkDuplicate measures a duplicated request with a 64 KiB body in
// four 16 KiB chunks: the original, the copy kept as it passes, and the
// copy sent from the next tick and answered (above-floor-ns, also in
// above-floor-us). Each iteration moves both hosts' clocks by 2ms, so the
// floor pays what a tick costs the harness when no guest ticks. The pass
// case is a duplicate rule that draws nothing, which must cost what any
// matched request does.
func BenchmarkDuplicate(b *testing.B) {
	for _, c := range []struct {
		name   string
		copies int
	}{{"dup", 1}, {"pass", 0}} {
		b.Run(c.name, func(b *testing.B) {
			req := benchBody64K("/" + c.name + "/x")
			opts := hosttest.Options{Clusters: map[string]hosttest.Cluster{"backend": {}}}
			floor := benchHost(b, benchNoopWasm(b), "", opts)
			h := benchHost(b, benchNedryWasm(b), benchDuplicateConfig, opts)
			if msg := benchWantStatus(200, true)(h.Do(req)); msg != "" {
				b.Fatal(msg)
			}
			h.Advance(2 * time.Millisecond)
			calls := h.HTTPCalls()
			if len(calls) != c.copies || (c.copies > 0 && (calls[0].Outcome != "response" || len(calls[0].Request.Body) < 64<<10-64)) {
				b.Fatalf("copies %d, want %d with the whole body, answered", len(calls), c.copies)
			}
			floor.Do(req)
			var nedry, noop benchClock
			calls0, mem0 := h.HostCalls(), h.MemorySize(0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				floor.Do(req)
				floor.Advance(2 * time.Millisecond)
				t1 := time.Now()
				h.Do(req)
				h.Advance(2 * time.Millisecond)
				t2 := time.Now()
				noop.add(t1.Sub(t0))
				nedry.add(t2.Sub(t1))
			}
			b.StopTimer()
			benchReportPair(b, &nedry, &noop)
			b.ReportMetric((nedry.nsPer()-noop.nsPer())/1000, "above-floor-us")
			b.ReportMetric(float64(h.HostCalls()-calls0)/float64(b.N), "hostcalls/req")
			b.ReportMetric(float64(h.MemorySize(0)-mem0)/float64(b.N), "mem-B/req")
			if n := len(h.HTTPCalls()) - len(calls); n != c.copies*b.N {
				b.Fatalf("%d copies over %d requests, want %d", n, b.N, c.copies*b.N)
			}
			if traps := h.Trapped(); len(traps) > 0 {
				b.Fatalf("guest trapped: %v", traps[0])
			}
		})
	}
}

package hosttest_test

import (
	"testing"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// benchRefRow is one guest of BenchmarkReference: its module, configuration,
// request and check, and the row whose in-guest time it is divided by.
type benchRefRow struct {
	name     string
	wasm     func(testing.TB) []byte
	cfg      string
	path     string
	check    func(hosttest.Result) string
	guestRef string
}

// benchRefRows are the C reference guests, the Go no-op floor and Nedry's
// request paths. Nedry's in-guest time is divided by c_prefix's, the C guest
// that does what a request no rule matches needs and nothing more: one host
// call for the headers, one prefix of :path checked.
var benchRefRows = []benchRefRow{
	{"c_noop", benchCNoopWasm, "", "/other/x", benchWantStatus(200, true), ""},
	{"go_noop", benchNoopWasm, "", "/other/x", benchWantStatus(200, true), "c_noop"},
	{"c_prefix", benchCPrefixWasm, "", "/other/x", benchWantStatus(200, true), "c_noop"},
	{"no_match", benchNedryWasm, benchRequestConfig, "/other/x", benchWantStatus(200, true), "c_prefix"},
	{"matched_no_fault", benchNedryWasm, benchRequestConfig, "/pass/x", benchWantStatus(200, true), "c_prefix"},
	{"abort", benchNedryWasm, benchRequestConfig, "/abort/x", benchWantStatus(503, false), "c_prefix"},
	{"corrupt", benchNedryWasm, benchRequestConfig, "/corrupt/x", benchWantCorrupt, "c_prefix"},
}

// BenchmarkReference measures Nedry against the real floor: guests written
// in C, with no runtime, through the same harness (testdata/cguests). Every
// row runs twice, on a plain host and on one whose CallObserver sums the
// guest's own time, all in one set of interleaved rounds (see
// benchRunRounds). Per row:
//   - R.ns/req: the whole request through the harness, and R.x-c_noop its
//     ratio to the C no-op's: what the harness costs by itself shows here;
//   - R.guest-ns/req: the time inside the guest per request, every callback
//     (nested allocations included, plus the observer's own clock read and
//     wazero's call into the guest, a few tens of ns per callback, the same
//     for every guest), and R.guest-x-<ref> its ratio to the reference row;
//   - R.work-x-c_prefix, for Nedry's rows: the in-guest time above the C
//     no-op's (what entering the guest for each callback and timing it
//     costs whatever the guest does) divided by the same for c_prefix, the
//     ratio of the guests' own work;
//   - R.hostcalls/req.
//
// Ratios are medians of per-round ratios; -lo and -hi are the lowest and
// highest round. The headline is no_match.guest-x-c_prefix: Nedry's own
// work on a request no rule matches against the least a filter can do
// for it.
func BenchmarkReference(b *testing.B) {
	plain := make(map[string]*benchLane, len(benchRefRows))
	observed := make(map[string]*benchLane, len(benchRefRows))
	var lanes []*benchLane
	for _, row := range benchRefRows {
		req := benchRequest(row.path)
		p := newBenchLane(b, row.name, row.wasm(b), row.cfg, req, false)
		o := newBenchLane(b, row.name+" (observed)", row.wasm(b), row.cfg, req, true)
		p.check(b, row.check)
		o.check(b, row.check)
		plain[row.name], observed[row.name] = p, o
		lanes = append(lanes, p, o)
	}
	benchRunRounds(b, lanes)
	for _, row := range benchRefRows {
		p, o := plain[row.name], observed[row.name]
		b.ReportMetric(newBenchSpread(p.wall).median, row.name+".ns/req")
		if row.name != "c_noop" {
			newBenchSpread(benchRatios(p.wall, plain["c_noop"].wall)).report(b, row.name+".x-c_noop")
		}
		b.ReportMetric(newBenchSpread(o.inVM).median, row.name+".guest-ns/req")
		if row.guestRef != "" {
			newBenchSpread(benchRatios(o.inVM, observed[row.guestRef].inVM)).report(b, row.name+".guest-x-"+row.guestRef)
		}
		if row.guestRef == "c_prefix" {
			cNoop := observed["c_noop"].inVM
			work := benchRatios(benchDiffs(o.inVM, cNoop), benchDiffs(observed["c_prefix"].inVM, cNoop))
			newBenchSpread(work).report(b, row.name+".work-x-c_prefix")
		}
		b.ReportMetric(p.calls, row.name+".hostcalls/req")
	}
}

package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// referenceBench is the benchmark whose metrics are one row per guest,
// named "<row>.<metric>" (host-test/nedry_bench_ref_test.go). Its line would
// be unreadable in the main table, so it gets a table of its own.
const referenceBench = "BenchmarkReference"

// referenceRows is the order rows are printed in; a row the benchmark adds
// later follows, sorted.
var referenceRows = []string{"c_noop", "go_noop", "c_prefix", "no_match", "matched_no_fault", "abort", "corrupt"}

// referenceCols are the columns of the reference table: the metric after
// "<row>." and its heading. A ratio is printed with its spread over rounds
// when the benchmark reports unit-lo and unit-hi.
var referenceCols = []struct{ metric, head string }{
	{"ns/req", "harness ns/req"},
	{"x-c_noop", "harness x c_noop"},
	{"guest-ns/req", "guest ns/req"},
	{"guest-x-c_noop", "guest x c_noop"},
	{"guest-x-c_prefix", "guest x c_prefix"},
	{"work-x-c_prefix", "work x c_prefix"},
	{"hostcalls/req", "hostcalls"},
}

// printReference prints BenchmarkReference as one line per guest, or
// nothing when it did not run.
func printReference(w io.Writer, results map[string]result) {
	r, ok := results[referenceBench]
	if !ok {
		return
	}
	rows := slices.Clone(referenceRows)
	var extra []string
	for unit := range r.metrics {
		row, metric, ok := strings.Cut(unit, ".")
		if ok && metric == "ns/req" && !slices.Contains(rows, row) {
			extra = append(extra, row)
		}
	}
	slices.Sort(extra)
	rows = append(rows, extra...)

	fmt.Fprintln(w, "Against the C reference guests (interleaved rounds; ratio [lowest-highest round]; guest = time inside")
	fmt.Fprintln(w, "the guest, work = the same above the C no-op's):")
	fmt.Fprintf(w, "%-18s", "guest")
	for _, c := range referenceCols {
		fmt.Fprintf(w, " %19s", c.head)
	}
	fmt.Fprintln(w)
	for _, row := range rows {
		if _, ok := r.metrics[row+".ns/req"]; !ok {
			continue
		}
		fmt.Fprintf(w, "%-18s", row)
		for _, c := range referenceCols {
			fmt.Fprintf(w, " %19s", withSpread(r.metrics, row+"."+c.metric))
		}
		fmt.Fprintln(w)
	}
	if v, ok := r.metrics["cpu-share"]; ok {
		fmt.Fprintf(w, "cpu-share %s: the share of the run's wall time the process was on a CPU (near 1 on a quiet machine)\n", format(v))
	}
}

// withSpread formats metric unit with its -lo and -hi spread when present,
// "-" when the benchmark did not report it.
func withSpread(m map[string]float64, unit string) string {
	v, ok := m[unit]
	if !ok {
		return "-"
	}
	lo, okLo := m[unit+"-lo"]
	hi, okHi := m[unit+"-hi"]
	if !okLo || !okHi {
		return format(v)
	}
	return fmt.Sprintf("%s [%s-%s]", short(v), short(lo), short(hi))
}

// short formats a ratio with two decimals, so a value and its spread fit in
// one column.
func short(v float64) string {
	if v >= 100 || v <= -100 {
		return format(v)
	}
	return fmt.Sprintf("%.2f", v)
}

// Command benchtable prints the benchmarks of host-test (make bench) as a
// table next to the filter issue's targets, each marked met or missed.
//
//	go test -run '^$' -bench . ./host-test/ | tee build/bench.txt
//	go run ./host-test/benchtable -wasm build/nedry.wasm < build/bench.txt
//
// It reads `go test -bench` output on stdin: lines starting with Benchmark,
// then the iteration count, then value/unit pairs, including the custom
// metrics the benchmarks report with b.ReportMetric. Lines it does not know
// are ignored, so the whole test output can be piped in.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// result is one benchmark line: its metrics by unit.
type result struct {
	name    string
	metrics map[string]float64
}

// procSuffix is the -GOMAXPROCS suffix go test appends to benchmark names.
var procSuffix = regexp.MustCompile(`-\d+$`)

// parse reads go test -bench output. A benchmark that ran more than once
// (-count) gets the median of each metric, so one run disturbed by the
// machine does not decide a verdict.
func parse(r io.Reader) (map[string]result, []string, error) {
	runs := map[string][]map[string]float64{}
	var order []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		res := result{name: procSuffix.ReplaceAllString(f[0], ""), metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			res.metrics[f[i+1]] = v
		}
		if _, seen := runs[res.name]; !seen {
			order = append(order, res.name)
		}
		runs[res.name] = append(runs[res.name], res.metrics)
	}
	out := make(map[string]result, len(runs))
	for name, rs := range runs {
		res := result{name: name, metrics: map[string]float64{}}
		for unit := range rs[0] {
			var vs []float64
			for _, m := range rs {
				if v, ok := m[unit]; ok {
					vs = append(vs, v)
				}
			}
			res.metrics[unit] = median(vs)
		}
		out[name] = res
	}
	return out, order, sc.Err()
}

// median of vs (the mean of the middle two for an even count).
func median(vs []float64) float64 {
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// target is one goal of the filter issue on one metric of one benchmark, or
// a metric shown next to one as context.
type target struct {
	bench, metric string
	// max is the bound: see judge.
	max  float64
	goal string
	kind judge
}

// judge says how a target's value meets its bound.
type judge int

const (
	// atMost: met when value <= max.
	atMost judge = iota
	// atLeast: a floor, met when value >= max.
	atLeast
	// contextOnly: a metric shown under a target to read it by; its max is
	// unused, it is never judged nor counted as missed.
	contextOnly
)

var targets = []target{
	// The headline: Nedry's own time on a request no rule matches against
	// the C guest that makes the same host call and checks one prefix. The
	// issue sets no bound on it yet.
	{referenceBench, "no_match.guest-x-c_prefix", 0, "in-guest vs C, same host call", contextOnly},
	{"BenchmarkRequest/no_match", "x-floor", 2, "<= 2x floor", atMost},
	// No regression against the previous commit's module (NEDRY_BASELINE_WASM,
	// which make bench builds), in interleaved rounds.
	{"BenchmarkBaseline/no_match", "x-baseline", 1.05, "vs the previous module <= 1.05x", atMost},
	{"BenchmarkBaseline/matched_no_fault", "x-baseline", 1.05, "vs the previous module <= 1.05x", atMost},
	{"BenchmarkBaseline/abort", "x-baseline", 1.05, "vs the previous module <= 1.05x", atMost},
	{"BenchmarkRequest/matched_no_fault", "x-floor", 3, "<= 3x floor", atMost},
	{"BenchmarkRequest/abort", "above-floor-ns", 3000, "<= floor + 3 µs", atMost},
	// "As fast as a matched one": 10% allowance for measurement noise.
	{"BenchmarkRequest/delay", "x-matched", 1.1, "pause as fast as matched (<= 1.1x)", atMost},
	{"BenchmarkRequest/delay_1h", "x-matched", 1.1, "pause as fast as matched (<= 1.1x)", atMost},
	{"BenchmarkRules/rules_10000", "hit-x-rules_1", 1.5, "<= 1.5x rules_1 (hit)", atMost},
	{"BenchmarkRules/rules_10000", "miss-x-rules_1", 1.5, "<= 1.5x rules_1 (miss)", atMost},
	// The same ratios of the time inside the guest, free of the harness.
	{"BenchmarkRules/rules_10000", "guest-hit-x-rules_1", 0, "in-guest, hit", contextOnly},
	{"BenchmarkRules/rules_10000", "guest-miss-x-rules_1", 0, "in-guest, miss", contextOnly},
	// From 10 rules on every request makes the xds.route_name host call:
	// against 10 rules, the cost of the rule count alone.
	{"BenchmarkRules/rules_10000", "hit-x-rules_10", 0, "vs rules_10, hit", contextOnly},
	{"BenchmarkRules/rules_10000", "miss-x-rules_10", 0, "vs rules_10, miss", contextOnly},
	{"BenchmarkConfigure/rules_1000", "configure-ms", 50, "<= 50 ms", atMost},
	{"BenchmarkInstantiate", "ms/vm", 20, "<= 20 ms", atMost},
	{"BenchmarkMemory", "growth-B", 0, "flat after 10k (0 B)", atMost},
	{"BenchmarkMemory", "MiB@end", 16, "<= 16 MiB per VM", atMost},
	{"BenchmarkMemoryGuarded", "growth-B", 0, "with guardrails and pushes, flat after two", atMost},
	{"BenchmarkMemoryGuarded", "MiB@end", 16, "the same, <= 16 MiB per VM", atMost},
	// The target is per callback. A step (p99.9-µs, max-µs) holds several
	// callbacks and the harness's own work, so it overstates a callback; it
	// is shown for context.
	{"BenchmarkTail/nedry", "cb-p99.9-µs", 50, "p99.9 <= 50 µs per callback", atMost},
	{"BenchmarkTail/nedry", "cb-max-µs", 5000, "max <= 5 ms per callback", atMost},
	{"BenchmarkTail/nedry", "p99.9-µs", 0, "p99.9 per host step", contextOnly},
	{"BenchmarkTail/nedry", "max-µs", 0, "max per host step", contextOnly},
	{"BenchmarkProxy", "ratio", 0.85, "nedry run throughput >= 0.85x plain proxy", atLeast},
	// The harness with the no-op guest in the same rounds: what the
	// harness and Go on wasm cost the proxy without any filter work.
	{"BenchmarkProxy", "noop-ratio", 0, "the same, no-op guest in the harness", contextOnly},
	// Why nedry run's guest time is several times BenchmarkRequest's: the
	// same callbacks with a real HTTP exchange between them.
	{"BenchmarkInterleaved", "x-canned", 0, "guest time, HTTP exchange vs canned upstream", contextOnly},
	{"BenchmarkInterleaved", "noop-x-canned", 0, "the same, no-op guest", contextOnly},
	// Windows, ramps, guardrails and expires on other rules cost untouched
	// traffic nothing, against the same module without them and against the
	// previous commit's module (x-prev: NEDRY_BASE_WASM, which make bench
	// builds).
	{"BenchmarkTimed/none", "x-plain", 1.05, "no match, timed rules elsewhere <= 1.05x", atMost},
	{"BenchmarkTimed/pass", "x-plain", 1.05, "untimed match, timed elsewhere <= 1.05x", atMost},
	{"BenchmarkTimed/none", "x-prev", 1.05, "the same vs the previous module <= 1.05x", atMost},
	{"BenchmarkTimed/pass", "x-prev", 1.05, "the same vs the previous module <= 1.05x", atMost},
	{"BenchmarkTimed/guarded", "x-plain", 1.2, "matched under a guardrail <= 1.2x without", atMost},
	{"BenchmarkTimed/guarded-errors", "x-plain", 1.2, "the same, guardrail on errors only", atMost},
	{"BenchmarkTimed/guarded-slow", "x-plain", 1.2, "the same, guardrail on slowness only", atMost},
	// The issue asks for the duplicate's cost in µs, with no bound.
	{"BenchmarkDuplicate/dup", "above-floor-us", 0, "duplicate, 64 KiB body, copy sent and answered", contextOnly},
}

// columns are the metrics shown for every benchmark that has them; the
// other custom metrics of a benchmark follow on its line as unit=value.
var columns = []string{"ns/req", "floor-ns/req", "x-floor", "above-floor-ns", "hostcalls/req", "mem-B/req"}

// hidden are go test's own metrics, left out of the table: ns/op of an
// interleaved benchmark counts the floor too, and B/op, allocs/op are the
// host's allocations, not the guest's.
var hidden = map[string]bool{"ns/op": true, "B/op": true, "allocs/op": true}

func main() {
	wasm := flag.String("wasm", "", "path of build/nedry.wasm, to add its size against the 3 MiB target")
	flag.Parse()
	results, order, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable: read benchmarks:", err)
		os.Exit(1)
	}
	if len(results) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark lines on stdin")
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	printTable(w, results, order)
	fmt.Fprintln(w)
	if _, ok := results[referenceBench]; ok {
		printReference(w, results)
		fmt.Fprintln(w)
	}
	missed := printTargets(w, results)
	if *wasm != "" {
		fi, err := os.Stat(*wasm)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err, "(run make build)")
			os.Exit(1)
		}
		const limit = 3 << 20
		fmt.Fprintf(w, "%-34s %-26s %14d %-30s %s\n", "build/nedry.wasm", "bytes", fi.Size(), "<= 3 MiB", verdict(float64(fi.Size()), limit, atMost))
		if fi.Size() > limit {
			missed++
		}
	}
	fmt.Fprintf(w, "\n%d target(s) missed\n", missed)
}

func printTable(w io.Writer, results map[string]result, order []string) {
	fmt.Fprintf(w, "%-34s", "benchmark")
	for _, c := range columns {
		fmt.Fprintf(w, " %14s", c)
	}
	fmt.Fprintln(w, "  other")
	for _, name := range order {
		if name == referenceBench {
			continue // printed by printReference
		}
		r := results[name]
		fmt.Fprintf(w, "%-34s", strings.TrimPrefix(name, "Benchmark"))
		for _, c := range columns {
			if v, ok := r.metrics[c]; ok {
				fmt.Fprintf(w, " %14s", format(v))
			} else {
				fmt.Fprintf(w, " %14s", "-")
			}
		}
		var other []string
		for unit := range r.metrics {
			if !hidden[unit] && !slices.Contains(columns, unit) && !isSpread(r.metrics, unit) {
				other = append(other, unit+"="+withSpread(r.metrics, unit))
			}
		}
		slices.Sort(other)
		fmt.Fprintln(w, " ", strings.Join(other, " "))
	}
}

// printTargets prints one line per target and returns how many were missed.
// A target whose benchmark did not run is reported as such, not as met.
func printTargets(w io.Writer, results map[string]result) int {
	fmt.Fprintf(w, "%-34s %-26s %14s %-30s %s\n", "target", "metric", "measured", "goal", "verdict")
	missed := 0
	for _, t := range targets {
		r, ok := results[t.bench]
		v, have := r.metrics[t.metric]
		if !ok || !have {
			fmt.Fprintf(w, "%-34s %-26s %14s %-30s %s\n", strings.TrimPrefix(t.bench, "Benchmark"), t.metric, "-", t.goal, "not run")
			continue
		}
		if !met(v, t.max, t.kind) {
			missed++
		}
		fmt.Fprintf(w, "%-34s %-26s %14s %-30s %s%s\n", strings.TrimPrefix(t.bench, "Benchmark"), t.metric, format(v), t.goal, verdict(v, t.max, t.kind), roundSpread(r.metrics, t.metric))
	}
	return missed
}

// isSpread reports whether unit is the -lo or -hi of another metric, which
// is printed with that metric instead of on its own.
func isSpread(m map[string]float64, unit string) bool {
	for _, suffix := range []string{"-lo", "-hi"} {
		if base, ok := strings.CutSuffix(unit, suffix); ok {
			if _, ok := m[base]; ok {
				return true
			}
		}
	}
	return false
}

// roundSpread is ", rounds lo-hi" for a metric measured in interleaved
// rounds (reported with unit-lo and unit-hi), "" for any other.
func roundSpread(m map[string]float64, unit string) string {
	lo, okLo := m[unit+"-lo"]
	hi, okHi := m[unit+"-hi"]
	if !okLo || !okHi {
		return ""
	}
	return fmt.Sprintf(" (rounds %s-%s)", short(lo), short(hi))
}

// met reports whether v meets max; a context row always does.
func met(v, max float64, kind judge) bool {
	switch kind {
	case atLeast:
		return v >= max
	case contextOnly:
		return true
	}
	return v <= max
}

// verdict says met, or missed and by how much relative to the bound.
func verdict(v, max float64, kind judge) string {
	switch {
	case kind == contextOnly:
		return "context, not judged"
	case met(v, max, kind):
		return "met"
	case kind == atLeast:
		return fmt.Sprintf("MISSED (%.2fx the floor)", v/max)
	}
	if max == 0 {
		return fmt.Sprintf("MISSED by %s", format(v))
	}
	return fmt.Sprintf("MISSED (%.2fx the bound)", v/max)
}

func format(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100 || v <= -100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

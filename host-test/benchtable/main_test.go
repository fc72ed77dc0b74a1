package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := `goos: linux
BenchmarkRequest/floor-2   	   20000	      4053 ns/op	         0 hostcalls/req	      4001 ns/req
BenchmarkRequest/abort-2   	   20000	     15699 ns/op	      8401 above-floor-ns	         3.319 x-floor
BenchmarkRequest/abort-2   	   20000	     15475 ns/op	      7369 above-floor-ns	         2.830 x-floor
BenchmarkRequest/abort-2   	   20000	     15475 ns/op	      9000 above-floor-ns	         2.000 x-floor
--- FAIL: BenchmarkBroken
BenchmarkTail-2    1	 383525229 ns/op	      5394 max-µs	       809.4 p99.9-µs
BenchmarkTail/nedry-2         	       1	196269019 ns/op	       235.0 cb-max-µs	         0.3110 cb-p50-µs	        13.72 cb-p99.9-µs	         7.140 cb/req	        37.00 cb>50µs	       250.2 max-µs	        66.40 p99.9-µs
--- BENCH: BenchmarkTail/nedry-2
    nedry_bench_test.go:588: slowest callback proxy_on_context_create: 234.957µs; callbacks over 50µs by export: map[proxy_on_request_headers:24]
PASS
`
	res, order, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"BenchmarkRequest/floor", "BenchmarkRequest/abort", "BenchmarkTail", "BenchmarkTail/nedry"}; strings.Join(order, ",") != strings.Join(want, ",") {
		t.Fatalf("order: have %v, want %v", order, want)
	}
	for _, tc := range []struct {
		bench, metric string
		want          float64
	}{
		{"BenchmarkRequest/floor", "ns/req", 4001},
		{"BenchmarkRequest/floor", "hostcalls/req", 0},
		{"BenchmarkRequest/abort", "above-floor-ns", 8401}, // median of three -count runs
		{"BenchmarkRequest/abort", "x-floor", 2.830},
		{"BenchmarkTail", "p99.9-µs", 809.4},
		{"BenchmarkTail/nedry", "cb-p99.9-µs", 13.72},
		{"BenchmarkTail/nedry", "cb-max-µs", 235},
		{"BenchmarkTail/nedry", "cb>50µs", 37},
		{"BenchmarkTail/nedry", "p99.9-µs", 66.4},
	} {
		if have := res[tc.bench].metrics[tc.metric]; have != tc.want {
			t.Errorf("%s %s: have %v, want %v", tc.bench, tc.metric, have, tc.want)
		}
	}
}

func TestPrintTargets(t *testing.T) {
	res := map[string]result{
		"BenchmarkRequest/no_match": {metrics: map[string]float64{"x-floor": 1.5}},
		"BenchmarkRequest/abort":    {metrics: map[string]float64{"above-floor-ns": 6000}},
		"BenchmarkMemory":           {metrics: map[string]float64{"growth-B": 65536, "MiB@end": 8}},
	}
	var b bytes.Buffer
	missed := printTargets(&b, res)
	if missed != 2 {
		t.Errorf("missed: have %d, want 2\n%s", missed, b.String())
	}
	for _, want := range []string{
		"Request/no_match                   x-floor                             1.500 <= 2x floor                    met",
		"MISSED (2.00x the bound)",
		"MISSED by 65536",
		"Tail/nedry                         cb-p99.9-µs                             - p99.9 <= 50 µs per callback    not run",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}

// TestPrintTargets_tail checks that the tail target is judged per callback,
// with the per-step metrics shown beside it but never counted as missed.
func TestPrintTargets_tail(t *testing.T) {
	tests := []struct {
		name       string
		metrics    map[string]float64
		wantMissed int
		want       []string
	}{
		{
			name:    "callbacks within, steps over",
			metrics: map[string]float64{"cb-p99.9-µs": 13.72, "cb-max-µs": 235, "p99.9-µs": 66.4, "max-µs": 6000},
			want: []string{
				"Tail/nedry                         cb-p99.9-µs                        13.720 p99.9 <= 50 µs per callback    met",
				"Tail/nedry                         cb-max-µs                             235 max <= 5 ms per callback       met",
				"Tail/nedry                         p99.9-µs                           66.400 p99.9 per host step            context, not judged",
				"Tail/nedry                         max-µs                               6000 max per host step              context, not judged",
			},
		},
		{
			name:       "callbacks over",
			metrics:    map[string]float64{"cb-p99.9-µs": 60, "cb-max-µs": 10000, "p99.9-µs": 70, "max-µs": 10010},
			wantMissed: 2,
			want: []string{
				"cb-p99.9-µs                        60.000 p99.9 <= 50 µs per callback    MISSED (1.20x the bound)",
				"cb-max-µs                           10000 max <= 5 ms per callback       MISSED (2.00x the bound)",
			},
		},
		{
			name:    "output from before per-callback timing",
			metrics: map[string]float64{"p99.9-µs": 809.4, "max-µs": 5394},
			want: []string{
				"cb-p99.9-µs                             - p99.9 <= 50 µs per callback    not run",
				"cb-max-µs                               - max <= 5 ms per callback       not run",
				"p99.9-µs                              809 p99.9 per host step            context, not judged",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			missed := printTargets(&b, map[string]result{"BenchmarkTail/nedry": {metrics: tc.metrics}})
			if missed != tc.wantMissed {
				t.Errorf("missed: have %d, want %d\n%s", missed, tc.wantMissed, b.String())
			}
			for _, want := range tc.want {
				if !strings.Contains(b.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, b.String())
				}
			}
		})
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{5}, 5},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if have := median(tc.in); have != tc.want {
			t.Errorf("median(%v): have %v, want %v", tc.in, have, tc.want)
		}
	}
}

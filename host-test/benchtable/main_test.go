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
PASS
`
	res, order, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"BenchmarkRequest/floor", "BenchmarkRequest/abort", "BenchmarkTail"}; strings.Join(order, ",") != strings.Join(want, ",") {
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
		"Request/no_match                   x-floor                   1.500 <= 2x floor                    met",
		"MISSED (2.00x the bound)",
		"MISSED by 65536",
		"Tail/nedry                         p99.9-µs                      - p99.9 <= 50 µs                 not run",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
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

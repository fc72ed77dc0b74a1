package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestPrintReference(t *testing.T) {
	in := `BenchmarkReference-2   	    4148	    445638 ns/op	      3279 c_noop.ns/req	       790.9 c_noop.guest-ns/req	         0 c_noop.hostcalls/req	      7645 no_match.ns/req	         2.394 no_match.x-c_noop	         1.707 no_match.x-c_noop-lo	         2.989 no_match.x-c_noop-hi	      4501 no_match.guest-ns/req	         3.664 no_match.guest-x-c_prefix	         3.249 no_match.guest-x-c_prefix-lo	         6.524 no_match.guest-x-c_prefix-hi	         1.000 no_match.hostcalls/req	      2000 zz_new.ns/req	         0.3063 cpu-share
`
	res, order, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	printReference(&b, res)
	out := b.String()
	lines := strings.Split(out, "\n")
	if len(lines) < 5 {
		t.Fatalf("short output:\n%s", out)
	}
	for i, prefix := range []string{"Against the C reference guests", "the guest, work", "guest ", "c_noop ", "no_match ", "zz_new ", "cpu-share 0.306"} {
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d: have %q, want it to start with %q", i, lines[i], prefix)
		}
	}
	for _, want := range []string{"2.39 [1.71-2.99]", "3.66 [3.25-6.52]", "4501", " 791 "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// The main table leaves the benchmark to this one.
	b.Reset()
	printTable(&b, res, order)
	if strings.Contains(b.String(), "Reference") {
		t.Errorf("main table prints BenchmarkReference:\n%s", b.String())
	}
}

func TestPrintTargets_roundSpread(t *testing.T) {
	res := map[string]result{"BenchmarkRules/rules_10000": {metrics: map[string]float64{
		"hit-x-rules_1": 1.44, "hit-x-rules_1-lo": 1.27, "hit-x-rules_1-hi": 1.71, "miss-x-rules_1": 1.6,
	}}}
	var b bytes.Buffer
	if missed := printTargets(&b, res); missed != 1 {
		t.Errorf("missed: have %d, want 1\n%s", missed, b.String())
	}
	for _, want := range []string{"met (rounds 1.27-1.71)\n", "MISSED (1.07x the bound)\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}

// TestPrintTable_spread checks that a metric measured in rounds is printed
// once, with its spread, in the main table's other column.
func TestPrintTable_spread(t *testing.T) {
	res := map[string]result{"BenchmarkRules/rules_10": {metrics: map[string]float64{
		"hit-x-rules_1": 1.36, "hit-x-rules_1-lo": 1.21, "hit-x-rules_1-hi": 1.57, "cpu-share": 0.38, "odd-lo": 2,
	}}}
	var b bytes.Buffer
	printTable(&b, res, []string{"BenchmarkRules/rules_10"})
	if want := "  cpu-share=0.380 hit-x-rules_1=1.36 [1.21-1.57] odd-lo=2.000\n"; !strings.HasSuffix(b.String(), want) {
		t.Errorf("have %q, want it to end with %q", b.String(), want)
	}
}

package hosttest_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// The filter defines its metrics at configure time, with Envoy-style names
// and the right types: six counters per rule, header control's own six
// when enabled, and the VM-wide counters and gauge.
func TestMetrics_definitions(t *testing.T) {
	h := newNedry(t, `{"header_control": {"enabled": true}, "rules": [{"name": "pay-1", "abort": {"percent": 0}}, {"name": "b_2", "reset": {"percent": 0}}]}`,
		hosttest.Options{Workers: 2})
	want := map[string]hosttest.MetricType{
		"nedry.config_rejected": hosttest.MetricCounter,
		"nedry.errors":          hosttest.MetricCounter,
		"nedry.active_faults":   hosttest.MetricGauge,
		"nedry.ops_skipped":     hosttest.MetricCounter,
	}
	for _, prefix := range []string{"nedry.rule.pay-1.", "nedry.rule.b_2.", "nedry.header_control."} {
		for _, c := range []string{"matched", "aborts_injected", "delays_injected", "corruptions_injected", "resets_injected", "faults_overflow"} {
			want[prefix+c] = hosttest.MetricCounter
		}
	}
	have := h.Metrics()
	var names []string
	for n := range have {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(have) != len(want) {
		t.Fatalf("metrics: have %d %v, want %d", len(have), names, len(want))
	}
	for n, typ := range want {
		m, ok := have[n]
		if !ok || m.Type != typ || m.Value != 0 {
			t.Errorf("metric %s: have %+v (defined %v), want type %v, value 0", n, m, ok, typ)
		}
	}
}

// Counters add up across workers and across streams; the gauge follows the
// streams a delay holds at each moment.
func TestMetrics_valuesAcrossWorkers(t *testing.T) {
	h := newNedry(t, `{"tick": "1ms", "rules": [
		{"name": "d", "match": {"prefix": "/d"}, "delay": {"percent": 100, "fixed": "10ms"}},
		{"name": "a", "match": {"prefix": "/a"}, "abort": {"percent": 100}},
		{"name": "c", "match": {"prefix": "/c"}, "corrupt": {"percent": 100, "request": [{"op": "set", "name": "x", "value": "1"}]}},
		{"name": "r", "match": {"prefix": "/r"}, "reset": {"percent": 100}}]}`, hosttest.Options{Workers: 3})
	var held []*hosttest.Stream
	for i := 0; i < 6; i++ {
		held = append(held, h.Start(get("GET", "/d")))
	}
	// The gauge moves at each VM's next tick.
	h.Advance(time.Millisecond)
	if have := h.Metric("nedry.active_faults"); have != 6 {
		t.Fatalf("gauge after 6 held streams and a tick: %d", have)
	}
	for i := 0; i < 5; i++ {
		run(h, get("GET", "/a"))
		run(h, get("GET", "/c"))
		run(h, get("GET", "/r"))
		run(h, get("GET", "/none"))
	}
	h.Advance(5 * time.Millisecond)
	held[0].Reset()
	h.Advance(time.Millisecond)
	wantMetrics(t, h, map[string]int64{"nedry.active_faults": 5})
	h.Advance(5 * time.Millisecond)
	want := map[string]int64{"nedry.active_faults": 0, "nedry.errors": 0, "nedry.config_rejected": 0, "nedry.ops_skipped": 0}
	for k, v := range with(ruleMetrics("d"), "nedry.rule.d.matched", 6, "nedry.rule.d.delays_injected", 6) {
		want[k] = v
	}
	for _, rc := range [][2]string{{"a", "aborts_injected"}, {"c", "corruptions_injected"}, {"r", "resets_injected"}} {
		for k, v := range with(ruleMetrics(rc[0]), "nedry.rule."+rc[0]+".matched", 5, fmt.Sprintf("nedry.rule.%s.%s", rc[0], rc[1]), 5) {
			want[k] = v
		}
	}
	wantMetrics(t, h, want)
	if len(h.Metrics()) != len(want) {
		t.Fatalf("have %d metrics, want %d", len(h.Metrics()), len(want))
	}
	settled(t, h)
}

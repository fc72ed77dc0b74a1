package hosttest_test

import (
	"fmt"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// Every stream a rule or header control matched carries the filter state
// wasm.nedry for access logs (%FILTER_STATE(wasm.nedry:PLAIN)%): the rule
// and the faults injected, "<rule>; control" when nothing was injected,
// "<rule>; inactive" outside its window. Unmatched streams have none (no
// host call).
func TestFilterState(t *testing.T) {
	cfg := `{"seed": 3, "max_active_faults": 1, "header_control": {"enabled": true}, "rules": [
	  {"name": "abort", "match": {"prefix": "/abort"}, "abort": {"percent": 100}, "reset": {"percent": 100},
	   "delay": {"percent": 100, "fixed": "10ms"}},
	  {"name": "corrupt", "match": {"prefix": "/corrupt"}, "corrupt": {"percent": 100,
	   "request": [{"op": "set", "name": "x-a", "value": "b"}]}, "reset": {"percent": 0}},
	  {"name": "pass", "match": {"prefix": "/pass"}, "abort": {"percent": 0}},
	  {"name": "hold", "match": {"prefix": "/hold"}, "delay": {"percent": 100, "fixed": "1h"}},
	  {"name": "night", "match": {"prefix": "/night"}, "active": {"hours": "22:00-06:00"}, "abort": {"percent": 100}}]}`
	h := newNedry(t, cfg, hosttest.Options{Start: time.Date(2026, 6, 5, 12, 0, 0, 0, time.UTC)})
	want := func(r hosttest.Result, v string) {
		t.Helper()
		var w map[string]string
		if v != "" {
			w = map[string]string{"wasm.nedry": v}
		}
		if fmt.Sprint(r.FilterState) != fmt.Sprint(w) {
			t.Fatalf("filter state %v, want %v", r.FilterState, w)
		}
	}
	r, _ := run(h, get("GET", "/abort"))
	want(r, "abort; delay,abort") // abort wins over reset, which is not injected
	r, _ = run(h, get("GET", "/corrupt"))
	want(r, "corrupt; corrupt")
	r, _ = run(h, get("GET", "/pass"))
	want(r, "pass; control")
	r, _ = run(h, get("GET", "/night"))
	want(r, "night; inactive")
	r, _ = run(h, get("GET", "/elsewhere"))
	want(r, "")
	r, _ = run(h, get("GET", "/elsewhere", "x-nedry-abort", "502"))
	want(r, "header_control; abort")
	// One stream held, the next overflows max_active_faults: its delay is
	// dropped, so it is a control stream.
	held := h.Start(get("GET", "/hold"))
	s := h.Start(get("GET", "/hold"))
	if !s.Done() {
		t.Fatal("the overflowing stream was held")
	}
	want(s.Result(), "hold; control")
	held.Reset()
	want(held.Result(), "hold; delay")
	// The kill switch lets a held stream go: it was delayed, its abort
	// never came.
	h2 := newNedry(t, `{"rules": [{"name": "d", "delay": {"percent": 100, "fixed": "1h"}, "abort": {"percent": 100}}]}`, hosttest.Options{})
	s = h2.Start(get("GET", "/"))
	if err := h2.Reconfigure([]byte(`{"enabled": false}`)); err != nil {
		t.Fatal(err)
	}
	h2.Advance(time.Second)
	if !s.Done() || s.Result().LocalReply != nil {
		t.Fatalf("released stream: done %v, local reply %v", s.Done(), s.Result().LocalReply)
	}
	want(s.Result(), "d; delay")
	noTrap(t, h)
	noTrap(t, h2)
}

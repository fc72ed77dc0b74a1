package hosttest_test

import (
	"strconv"
	"strings"
	"testing"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// One request cannot make the filter's memory grow by more than one copy of
// its header block (Envoy hands the whole block to proxy_get_header_map_pairs)
// plus a little: truncate and garble leave values over 64 KiB alone, unread,
// and count them in nedry.ops_skipped, and megabytes of headers are
// collected before the next request. Go's wasm memory never shrinks, so
// this is the VM's worst case for good. Before, one 8 MiB header under
// garble took a VM from 4.5 to 47.5 MiB, and 17.7 MiB of growth with no
// rule at all.
func TestMemory_hugeHeaderValues(t *testing.T) {
	const block = 8 << 20 // Envoy's largest max_request_headers_kb (8192)
	big := strings.Repeat("b", block)
	rule := func(side, op string) string {
		return `{"rules": [{"name": "r", "corrupt": {"percent": 100, "` + side + `": [` + op +
			`, {"op": "set", "name": "x-after", "value": "1"}]}}]}`
	}
	tests := []struct {
		name, cfg string
		skipped   int64 // per request
	}{
		{"no rule", `{}`, 0},
		{"truncate a request header", rule("request", `{"op": "truncate", "name": "x-big", "length": 3}`), 1},
		{"garble a request header", rule("request", `{"op": "garble", "name": "x-big"}`), 1},
		{"truncate a response header", rule("response", `{"op": "truncate", "name": "x-big", "length": 3}`), 1},
		{"garble a response header", rule("response", `{"op": "garble", "name": "x-big"}`), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newNedry(t, tc.cfg, hosttest.Options{})
			run(h, get("GET", "/", "x-big", "small"))
			m0 := h.MemorySize(0)
			const n = 3
			for i := 0; i < n; i++ {
				req := get("GET", "/", "x-big", big)
				req.Response = &hosttest.Response{Status: 200, Headers: [][2]string{{"x-big", big}}, Body: []byte("ok")}
				r, _ := run(h, req)
				if r.Trap != nil || r.Upstream == nil || r.Response == nil {
					t.Fatalf("request %d: trap %v, upstream %v, response %+v", i, r.Trap, r.Upstream != nil, r.Response)
				}
				if v, _ := r.Upstream.Header("x-big"); v != big {
					t.Fatalf("request %d: the upstream got x-big of %d bytes, want it untouched (%d)", i, len(v), block)
				}
				if v := r.Header("x-big"); v != big {
					t.Fatalf("request %d: the client got x-big of %d bytes, want it untouched (%d)", i, len(v), block)
				}
			}
			if grown := h.MemorySize(0) - m0; grown > block+1<<20 {
				t.Fatalf("linear memory grew by %.1f MiB over %d requests with an 8 MiB header, want at most 9 MiB",
					float64(grown)/(1<<20), n)
			}
			wantMetrics(t, h, map[string]int64{"nedry.ops_skipped": n * tc.skipped, "nedry.errors": 0})
			settled(t, h)
			noTrap(t, h)
		})
	}
}

// The bound is on the value, not the op: a value of exactly 64 KiB is still
// garbled or truncated, and the rule's other ops apply next to a skipped one.
func TestMemory_opValueBound(t *testing.T) {
	const bound = 64 << 10
	tests := []struct {
		name, op string
		size     int
		want     func(v string) bool
		skipped  int64
	}{
		{"garble at the bound", `{"op": "garble", "name": "x-v"}`, bound,
			func(v string) bool { return len(v) == bound && v != strings.Repeat("v", bound) }, 0},
		{"truncate at the bound", `{"op": "truncate", "name": "x-v", "length": 5}`, bound,
			func(v string) bool { return v == "vvvvv" }, 0},
		{"garble one byte over", `{"op": "garble", "name": "x-v"}`, bound + 1,
			func(v string) bool { return v == strings.Repeat("v", bound+1) }, 1},
		{"truncate one byte over", `{"op": "truncate", "name": "x-v", "length": 5}`, bound + 1,
			func(v string) bool { return v == strings.Repeat("v", bound+1) }, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newNedry(t, `{"rules": [{"name": "r", "corrupt": {"percent": 100, "request": [`+tc.op+
				`, {"op": "set", "name": "x-after", "value": "1"}]}}]}`, hosttest.Options{})
			r, id := run(h, get("GET", "/", "x-v", strings.Repeat("v", tc.size)))
			v, _ := r.Upstream.Header("x-v")
			if !tc.want(v) {
				t.Fatalf("the upstream got x-v of %d bytes: %.20q…", len(v), v)
			}
			if a, _ := r.Upstream.Header("x-after"); a != "1" {
				t.Fatal("the rule's next op did not apply")
			}
			wantMetrics(t, h, map[string]int64{"nedry.ops_skipped": tc.skipped, "nedry.rule.r.corruptions_injected": 1, "nedry.errors": 0})
			if tc.skipped > 0 {
				wantLogs(t, r, hosttest.LogLevelDebug, "nedry: rule r: corrupt (stream "+strconv.FormatUint(uint64(id), 10)+")",
					"nedry: rule r: corrupt: op skipped, header value over 65536 bytes (stream "+strconv.FormatUint(uint64(id), 10)+")")
			}
			settled(t, h)
		})
	}
}

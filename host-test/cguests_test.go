package hosttest_test

import (
	"slices"
	"testing"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// TestCGuests checks the C reference guests of the benchmarks
// (testdata/cguests) through the harness: the no-op makes no host call, the
// prefix guest makes exactly the one that fetches the request headers and
// really checks the prefix (a request under it is answered locally), and
// both see the same callbacks as the Go no-op guest, so the benchmarks
// compare guests, not different harness work.
func TestCGuests(t *testing.T) {
	tests := []struct {
		name      string
		wasm      func(testing.TB) []byte
		path      string
		status    int
		details   string // local reply details, "" when the upstream answers
		hostCalls uint64
	}{
		{"noop", benchCNoopWasm, "/pass/x", 200, "", 0},
		{"prefix, other path", benchCPrefixWasm, "/other/x", 200, "", 1},
		{"prefix, path under the prefix", benchCPrefixWasm, "/pass/x", 503, "c_prefix", 2},
		{"prefix, path equal to the prefix", benchCPrefixWasm, "/pass/", 503, "c_prefix", 2},
		{"prefix, path shorter than the prefix", benchCPrefixWasm, "/pas", 200, "", 1},
	}
	goNoop := benchHost(t, benchNoopWasm(t), "", hosttest.Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := benchHost(t, tc.wasm(t), "", hosttest.Options{})
			req := benchRequest(tc.path)
			calls0 := h.HostCalls()
			r := h.Do(req)
			if r.Trap != nil {
				t.Fatalf("trap: %v", r.Trap)
			}
			if have := h.HostCalls() - calls0; have != tc.hostCalls {
				t.Errorf("host calls: have %d, want %d", have, tc.hostCalls)
			}
			if r.Response == nil || r.Response.Status != tc.status {
				t.Fatalf("response %+v, want status %d", r.Response, tc.status)
			}
			var details string
			if r.LocalReply != nil {
				details = r.LocalReply.Details
			}
			if details != tc.details {
				t.Errorf("local reply details: have %q, want %q", details, tc.details)
			}
			if tc.details == "" {
				if want := goNoop.Do(req).Callbacks; !slices.Equal(r.Callbacks, want) {
					t.Errorf("callbacks:\nhave %v\nwant %v (the Go no-op guest's)", r.Callbacks, want)
				}
			}
		})
	}
}

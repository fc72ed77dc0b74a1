package hosttest_test

import (
	"context"
	"slices"
	"testing"

	"github.com/tetratelabs/wazero"

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

// TestCGuests_surface checks the C guests' exports and imports against the
// spec's signatures, as TestModuleSurface does for the filter: the harness
// calls an export with the arguments it expects whatever the guest
// declared, so a C prototype that drifted from the spec would be measured
// without failing. _initialize is the one required export they lack: a
// module without a runtime to start needs none, and Envoy does not ask for
// it.
func TestCGuests_surface(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	for name, wasm := range map[string]func(testing.TB) []byte{"noop": benchCNoopWasm, "prefix": benchCPrefixWasm} {
		t.Run(name, func(t *testing.T) {
			m, err := rt.CompileModule(ctx, wasm(t))
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			exports := m.ExportedFunctions()
			for export, want := range surfaceExports {
				f, ok := exports[export]
				switch {
				case export == "_initialize":
				case !ok:
					t.Errorf("export %s: missing", export)
				case !want.equal(f.ParamTypes(), f.ResultTypes()):
					t.Errorf("export %s: have %s, want %s", export, surfaceFn(f.ParamTypes(), f.ResultTypes()...), want)
				}
			}
			if _, ok := m.ExportedMemories()["memory"]; !ok {
				t.Error("export memory: missing")
			}
			for _, f := range m.ImportedFunctions() {
				mod, fn, _ := f.Import()
				want, ok := surfaceHostFuncs[fn]
				switch {
				case mod != "env" || !ok:
					t.Errorf("import %s.%s: not a proxy-wasm host function", mod, fn)
				case !want.equal(f.ParamTypes(), f.ResultTypes()):
					t.Errorf("import env.%s: have %s, want %s", fn, surfaceFn(f.ParamTypes(), f.ResultTypes()...), want)
				}
			}
		})
	}
}

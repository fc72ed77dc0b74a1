package hosttest_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/tetratelabs/wazero"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// TestCrossRenameExport checks the rewrite proxytest depends on: the renamed
// module compiles, exports _start and no longer _initialize, and keeps every
// other export; a missing or clashing name is refused.
func TestCrossRenameExport(t *testing.T) {
	wasm, err := hosttest.LoadFile(hosttest.RepoPath("build", "nedry.wasm"))
	if err != nil {
		t.Fatalf("load filter: %v", err)
	}
	out, err := crossRenameExport(wasm, "_initialize", "_start")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	before, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	after, err := rt.CompileModule(ctx, out)
	if err != nil {
		t.Fatalf("renamed module does not compile: %v", err)
	}
	want := map[string]bool{}
	for n := range before.ExportedFunctions() {
		if n == "_initialize" {
			n = "_start"
		}
		want[n] = true
	}
	have := map[string]bool{}
	for n := range after.ExportedFunctions() {
		have[n] = true
	}
	if !reflect.DeepEqual(have, want) {
		t.Fatalf("exports after rename:\n have %v\n want %v", have, want)
	}
	for _, tc := range []struct{ name, from, to, wantErr string }{
		{"missing", "_no_such_export", "_x", `no export named "_no_such_export"`},
		{"clash", "_initialize", "proxy_on_tick", `export section: "proxy_on_tick" is already exported`},
		{"not wasm", "", "", "not a WebAssembly 1.0 binary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := wasm
			if tc.name == "not wasm" {
				in = []byte("hello")
			}
			_, err := crossRenameExport(in, tc.from, tc.to)
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("error: have %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestCrossRetargetImport checks the other rewrite: the module compiles and
// imports the stand-in instead of proxy_get_log_level, with the same
// signature, every other import unchanged; a missing import is refused.
func TestCrossRetargetImport(t *testing.T) {
	wasm, err := hosttest.LoadFile(hosttest.RepoPath("build", "nedry.wasm"))
	if err != nil {
		t.Fatalf("load filter: %v", err)
	}
	out, err := crossRetargetImport(wasm, "env", "proxy_get_log_level", crossLogLevelStandIn[0], crossLogLevelStandIn[1])
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	imports := func(b []byte) map[string]string {
		m, err := rt.CompileModule(ctx, b)
		if err != nil {
			t.Fatalf("compile: %v", err)
		}
		got := map[string]string{}
		for _, f := range m.ImportedFunctions() {
			mod, name, _ := f.Import()
			got[mod+"."+name] = fmt.Sprint(f.ParamTypes(), f.ResultTypes())
		}
		return got
	}
	want := imports(wasm)
	sig, ok := want["env.proxy_get_log_level"]
	if !ok {
		t.Fatal("the filter does not import proxy_get_log_level: drop this rewrite")
	}
	delete(want, "env.proxy_get_log_level")
	want[crossLogLevelStandIn[0]+"."+crossLogLevelStandIn[1]] = sig
	if have := imports(out); !reflect.DeepEqual(have, want) {
		t.Fatalf("imports after the rewrite:\n have %v\n want %v", have, want)
	}
	if _, err := crossRetargetImport(wasm, "env", "proxy_no_such_call", "a", "b"); err == nil ||
		err.Error() != "no function import env.proxy_no_such_call" {
		t.Fatalf("missing import: have %v", err)
	}
}

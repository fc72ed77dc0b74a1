package hosttest_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// The module surface is checked against Envoy's host library rather than
// against this harness, so a hostcall the harness happens to provide but
// Envoy does not still fails here.

const (
	surfI32 = api.ValueTypeI32
	surfI64 = api.ValueTypeI64
)

// surfaceSig is a function signature: parameter and result types.
type surfaceSig struct {
	params, results []api.ValueType
}

func surfaceFn(params []api.ValueType, results ...api.ValueType) surfaceSig {
	return surfaceSig{params: params, results: results}
}

func surfaceParams(n int) []api.ValueType {
	p := make([]api.ValueType, n)
	for i := range p {
		p[i] = surfI32
	}
	return p
}

func (s surfaceSig) String() string {
	name := func(ts []api.ValueType) string {
		out := make([]string, len(ts))
		for i, t := range ts {
			out[i] = api.ValueTypeName(t)
		}
		return "(" + strings.Join(out, ", ") + ")"
	}
	return name(s.params) + " -> " + name(s.results)
}

func (s surfaceSig) equal(params, results []api.ValueType) bool {
	return slices.Equal(s.params, params) && slices.Equal(s.results, results)
}

// surfaceHostFuncs are the env.proxy_* functions Envoy registers for a
// module exporting proxy_abi_version_0_2_1, with their signatures.
//
// The set is proxy-wasm-cpp-host's FOR_ALL_HOST_FUNCTIONS
// (include/proxy-wasm/exports.h) plus what WasmBase::registerCallbacks
// (src/wasm.cc) adds for ABI 0.2.1 only: continue_stream, close_stream and
// get_log_level. The 0.1.0-only functions (get_configuration,
// continue_request, continue_response, clear_route_cache) are absent on
// purpose: Envoy would not link them for this module. The signatures are
// those of proxy-wasm/spec abi-versions/v0.2.1/README.md; proxy_get_status
// and proxy_call_foreign_function are in cpp-host's list and in the spec.
var surfaceHostFuncs = map[string]surfaceSig{
	"proxy_log":                          surfaceFn(surfaceParams(3), surfI32),
	"proxy_get_log_level":                surfaceFn(surfaceParams(1), surfI32),
	"proxy_get_status":                   surfaceFn(surfaceParams(3), surfI32),
	"proxy_set_property":                 surfaceFn(surfaceParams(4), surfI32),
	"proxy_get_property":                 surfaceFn(surfaceParams(4), surfI32),
	"proxy_send_local_response":          surfaceFn(surfaceParams(8), surfI32),
	"proxy_get_shared_data":              surfaceFn(surfaceParams(5), surfI32),
	"proxy_set_shared_data":              surfaceFn(surfaceParams(5), surfI32),
	"proxy_register_shared_queue":        surfaceFn(surfaceParams(3), surfI32),
	"proxy_resolve_shared_queue":         surfaceFn(surfaceParams(5), surfI32),
	"proxy_dequeue_shared_queue":         surfaceFn(surfaceParams(3), surfI32),
	"proxy_enqueue_shared_queue":         surfaceFn(surfaceParams(3), surfI32),
	"proxy_get_header_map_value":         surfaceFn(surfaceParams(5), surfI32),
	"proxy_add_header_map_value":         surfaceFn(surfaceParams(5), surfI32),
	"proxy_replace_header_map_value":     surfaceFn(surfaceParams(5), surfI32),
	"proxy_remove_header_map_value":      surfaceFn(surfaceParams(3), surfI32),
	"proxy_get_header_map_pairs":         surfaceFn(surfaceParams(3), surfI32),
	"proxy_set_header_map_pairs":         surfaceFn(surfaceParams(3), surfI32),
	"proxy_get_header_map_size":          surfaceFn(surfaceParams(2), surfI32),
	"proxy_get_buffer_status":            surfaceFn(surfaceParams(3), surfI32),
	"proxy_get_buffer_bytes":             surfaceFn(surfaceParams(5), surfI32),
	"proxy_set_buffer_bytes":             surfaceFn(surfaceParams(5), surfI32),
	"proxy_http_call":                    surfaceFn(surfaceParams(10), surfI32),
	"proxy_grpc_call":                    surfaceFn(surfaceParams(12), surfI32),
	"proxy_grpc_stream":                  surfaceFn(surfaceParams(9), surfI32),
	"proxy_grpc_close":                   surfaceFn(surfaceParams(1), surfI32),
	"proxy_grpc_cancel":                  surfaceFn(surfaceParams(1), surfI32),
	"proxy_grpc_send":                    surfaceFn(surfaceParams(4), surfI32),
	"proxy_set_tick_period_milliseconds": surfaceFn(surfaceParams(1), surfI32),
	"proxy_get_current_time_nanoseconds": surfaceFn(surfaceParams(1), surfI32),
	"proxy_define_metric":                surfaceFn(surfaceParams(4), surfI32),
	"proxy_increment_metric":             surfaceFn([]api.ValueType{surfI32, surfI64}, surfI32),
	"proxy_record_metric":                surfaceFn([]api.ValueType{surfI32, surfI64}, surfI32),
	"proxy_get_metric":                   surfaceFn(surfaceParams(2), surfI32),
	"proxy_set_effective_context":        surfaceFn(surfaceParams(1), surfI32),
	"proxy_done":                         surfaceFn(nil, surfI32),
	"proxy_call_foreign_function":        surfaceFn(surfaceParams(6), surfI32),
	"proxy_continue_stream":              surfaceFn(surfaceParams(1), surfI32),
	"proxy_close_stream":                 surfaceFn(surfaceParams(1), surfI32),
}

// surfaceWASIFuncs is proxy-wasm-cpp-host's FOR_ALL_WASI_FUNCTIONS
// (include/proxy-wasm/exports.h; src/wasm.cc registers each under both
// wasi_unstable and wasi_snapshot_preview1). A module importing any other
// WASI function fails to link in Envoy. Signatures are not listed: the Go
// toolchain's WASI imports are checked by name, since cpp-host's stubs take
// the preview1 shapes and a mismatch would already fail wazero's own link.
var surfaceWASIFuncs = []string{
	"fd_write", "fd_read", "fd_seek", "fd_close", "fd_fdstat_get", "fd_fdstat_set_flags",
	"fd_fdstat_set_rights", "environ_get", "environ_sizes_get", "args_get",
	"args_sizes_get", "clock_time_get", "clock_res_get", "fd_advise", "fd_allocate",
	"fd_datasync", "fd_filestat_set_size", "fd_filestat_set_times", "fd_pread",
	"fd_pwrite", "fd_readdir", "fd_renumber", "fd_sync", "fd_tell",
	"path_create_directory", "path_filestat_set_times", "path_link",
	"path_readlink", "path_remove_directory", "path_rename",
	"path_symlink", "path_unlink_file", "sock_accept", "sock_recv",
	"sock_send", "sock_shutdown", "random_get", "sched_yield",
	"poll_oneoff", "proc_exit", "path_open",
	"fd_prestat_get", "fd_prestat_dir_name",
	"path_filestat_get", "fd_filestat_get",
}

// surfaceExports are the exports the filter must have, with the signatures
// of proxy-wasm/spec abi-versions/v0.2.1/README.md. Without
// proxy_abi_version_0_2_1 Envoy refuses the module; without
// proxy_on_memory_allocate (or malloc) it cannot hand the guest any bytes.
var surfaceExports = map[string]surfaceSig{
	"proxy_abi_version_0_2_1":    surfaceFn(nil),
	"_initialize":                surfaceFn(nil),
	"proxy_on_memory_allocate":   surfaceFn(surfaceParams(1), surfI32),
	"proxy_on_vm_start":          surfaceFn(surfaceParams(2), surfI32),
	"proxy_on_context_create":    surfaceFn(surfaceParams(2)),
	"proxy_on_configure":         surfaceFn(surfaceParams(2), surfI32),
	"proxy_on_tick":              surfaceFn(surfaceParams(1)),
	"proxy_on_done":              surfaceFn(surfaceParams(1), surfI32),
	"proxy_on_log":               surfaceFn(surfaceParams(1)),
	"proxy_on_delete":            surfaceFn(surfaceParams(1)),
	"proxy_on_request_headers":   surfaceFn(surfaceParams(3), surfI32),
	"proxy_on_request_body":      surfaceFn(surfaceParams(3), surfI32),
	"proxy_on_request_trailers":  surfaceFn(surfaceParams(2), surfI32),
	"proxy_on_response_headers":  surfaceFn(surfaceParams(3), surfI32),
	"proxy_on_response_body":     surfaceFn(surfaceParams(3), surfI32),
	"proxy_on_response_trailers": surfaceFn(surfaceParams(2), surfI32),
}

// surfaceOptionalExports are other callbacks of the spec: the filter need
// not export them, but if it does the signature must match, since Envoy
// calls them with the spec's arguments.
var surfaceOptionalExports = map[string]surfaceSig{
	"main":                                    surfaceFn(surfaceParams(2), surfI32),
	"_start":                                  surfaceFn(nil),
	"malloc":                                  surfaceFn(surfaceParams(1), surfI32),
	"proxy_on_new_connection":                 surfaceFn(surfaceParams(1), surfI32),
	"proxy_on_downstream_data":                surfaceFn(surfaceParams(3), surfI32),
	"proxy_on_downstream_connection_close":    surfaceFn(surfaceParams(2)),
	"proxy_on_upstream_data":                  surfaceFn(surfaceParams(3), surfI32),
	"proxy_on_upstream_connection_close":      surfaceFn(surfaceParams(2)),
	"proxy_on_http_call_response":             surfaceFn(surfaceParams(5)),
	"proxy_on_grpc_receive_initial_metadata":  surfaceFn(surfaceParams(3)),
	"proxy_on_grpc_receive":                   surfaceFn(surfaceParams(3)),
	"proxy_on_grpc_receive_trailing_metadata": surfaceFn(surfaceParams(3)),
	"proxy_on_grpc_close":                     surfaceFn(surfaceParams(3)),
	"proxy_on_queue_ready":                    surfaceFn(surfaceParams(2)),
	"proxy_on_foreign_function":               surfaceFn(surfaceParams(3)),
}

// surfaceModule compiles build/nedry.wasm without instantiating it.
func surfaceModule(t *testing.T) wazero.CompiledModule {
	t.Helper()
	wasm, err := hosttest.LoadFile(hosttest.RepoPath("build", "nedry.wasm"))
	if err != nil {
		t.Fatalf("load filter: %v", err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	m, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatalf("compile build/nedry.wasm: %v", err)
	}
	return m
}

func TestModuleSurface(t *testing.T) {
	m := surfaceModule(t)

	t.Run("imports", func(t *testing.T) {
		imports := m.ImportedFunctions()
		if len(imports) == 0 {
			t.Fatal("the module imports no function: not a proxy-wasm filter")
		}
		for _, f := range imports {
			mod, name, _ := f.Import()
			switch mod {
			case "env":
				want, ok := surfaceHostFuncs[name]
				if !ok {
					t.Errorf("import env.%s: not a proxy-wasm ABI 0.2.1 host function Envoy provides", name)
					continue
				}
				if !want.equal(f.ParamTypes(), f.ResultTypes()) {
					t.Errorf("import env.%s: have %s, want %s", name,
						surfaceFn(f.ParamTypes(), f.ResultTypes()...), want)
				}
			case "wasi_snapshot_preview1":
				if !slices.Contains(surfaceWASIFuncs, name) {
					t.Errorf("import %s.%s: not in proxy-wasm-cpp-host's FOR_ALL_WASI_FUNCTIONS", mod, name)
				}
			default:
				t.Errorf("import %s.%s: module %q is not provided by Envoy", mod, name, mod)
			}
		}
		if m.ImportedMemories() != nil && len(m.ImportedMemories()) > 0 {
			t.Errorf("the module imports a memory; Envoy expects it to export its own")
		}
	})

	t.Run("exports", func(t *testing.T) {
		exports := m.ExportedFunctions()
		for name, want := range surfaceExports {
			f, ok := exports[name]
			if !ok {
				t.Errorf("export %s: missing", name)
				continue
			}
			if !want.equal(f.ParamTypes(), f.ResultTypes()) {
				t.Errorf("export %s: have %s, want %s", name,
					surfaceFn(f.ParamTypes(), f.ResultTypes()...), want)
			}
		}
		for name, want := range surfaceOptionalExports {
			f, ok := exports[name]
			if ok && !want.equal(f.ParamTypes(), f.ResultTypes()) {
				t.Errorf("export %s: have %s, want %s", name,
					surfaceFn(f.ParamTypes(), f.ResultTypes()...), want)
			}
		}
		// cpp-host reads and writes guest memory through the export named
		// "memory"; without it no buffer can be handed over.
		if _, ok := m.ExportedMemories()["memory"]; !ok {
			t.Error("export memory: missing")
		}
	})
}

// TestModuleSurface_listsAreDistinct guards the tables above: a name listed
// twice or a proxy_* name in the WASI list would hide a typo.
func TestModuleSurface_listsAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range surfaceWASIFuncs {
		if seen[n] {
			t.Errorf("surfaceWASIFuncs: %s listed twice", n)
		}
		seen[n] = true
		if strings.HasPrefix(n, "proxy_") {
			t.Errorf("surfaceWASIFuncs: %s is not a WASI function", n)
		}
	}
	if len(surfaceWASIFuncs) != 45 {
		t.Errorf("surfaceWASIFuncs: have %d names, want the 45 of FOR_ALL_WASI_FUNCTIONS", len(surfaceWASIFuncs))
	}
	for n := range surfaceExports {
		if _, ok := surfaceOptionalExports[n]; ok {
			t.Errorf("%s is both required and optional", n)
		}
	}
}

// surfaceSizeCeiling is the size build/nedry.wasm must stay under. The
// issue's target is 3 MiB, which standard Go cannot reach here: a wasip1
// c-shared module that does nothing but use gjson and regexp is already
// about 3.9 MB (3,920,322 bytes with Go 1.26: the Go runtime, regexp/syntax
// and the unicode tables), and the filter was 4,536,600 bytes when this
// ceiling was set. The ceiling sits about 5% above that so growth is caught;
// raise it deliberately, in the same commit as the change that needs it.
// Raised to 5,000,000 with body corruption (issue 10 allows 5 MiB): the
// filter was 4,754,742 bytes then, sjson 84,955 of them.
// abi.Release and the status read skipped by slow-only guardrails add
// about 1.3 KB (4,749,590 to 4,750,885 bytes before body corruption).
const surfaceSizeCeiling = 5_000_000

// surfaceSizeTarget is the size target, reported for comparison.
const surfaceSizeTarget = 3 << 20

func TestModuleSize(t *testing.T) {
	path := hosttest.RepoPath("build", "nedry.wasm")
	if _, err := hosttest.LoadFile(path); err != nil {
		t.Fatalf("load filter: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat filter: %v", err)
	}
	size := fi.Size()
	t.Logf("build/nedry.wasm: %d bytes (ceiling %d, issue target %d, %+.1f%% vs target)",
		size, surfaceSizeCeiling, surfaceSizeTarget, 100*float64(size-surfaceSizeTarget)/surfaceSizeTarget)
	if size > surfaceSizeCeiling {
		t.Fatalf("build/nedry.wasm: have %d bytes, want <= %d: find what grew (go tool nm -size -sort size) before raising the ceiling", size, surfaceSizeCeiling)
	}
}

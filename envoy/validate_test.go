package envoy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	wasmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/wasm/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// repoRoot is the module root as seen from this package's directory, where
// go test runs.
const repoRoot = ".."

// The files this package ships, relative to the repository root.
const (
	envoyYAML     = "envoy/envoy.yaml"
	ecdsBootstrap = "envoy/ecds/envoy.yaml"
	ecdsResource  = "envoy/ecds/nedry-filter.yaml"
	// ecdsWatched is the copy of ecdsResource Envoy reads and make push
	// writes (make's ECDS default), so a push leaves the repository clean.
	ecdsWatched = "build/ecds/nedry-filter.yaml"
	quickstart  = "examples/quickstart.json"
	wasmPath    = "build/nedry.wasm"
)

func readRepoFile(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return data
}

// envoyYAMLFiles lists every YAML file under envoy/, so a new file is
// validated without anyone remembering to add it here.
func envoyYAMLFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(repoRoot, "envoy"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			rel, err := filepath.Rel(repoRoot, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("list envoy/: %v", err)
	}
	sort.Strings(files)
	if len(files) < 3 {
		t.Fatalf("want at least envoy.yaml, ecds/envoy.yaml and ecds/nedry-filter.yaml, found %v", files)
	}
	return files
}

// loadEnvoyFile decodes a shipped Envoy file: for a Bootstrap the bootstrap
// itself, for the ECDS file (top-level resources) each resource as an Any.
func loadEnvoyFile(t testing.TB, rel string) []proto.Message {
	t.Helper()
	data := readRepoFile(t, rel)
	if regexp.MustCompile(`(?m)^resources:`).Match(data) {
		f, err := decodeECDSFile(data)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if f.TypeURL != "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig" {
			t.Errorf("%s: type_url: want the TypedExtensionConfig type, have %q", rel, f.TypeURL)
		}
		var ms []proto.Message
		for _, r := range f.Resources {
			ms = append(ms, r)
		}
		return ms
	}
	var b bootstrapv3.Bootstrap
	if err := DecodeYAML(data, &b); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return []proto.Message{&b}
}

func loadBootstrap(t testing.TB, rel string) *bootstrapv3.Bootstrap {
	t.Helper()
	ms := loadEnvoyFile(t, rel)
	b, ok := ms[0].(*bootstrapv3.Bootstrap)
	if !ok {
		t.Fatalf("%s: not a bootstrap", rel)
	}
	return b
}

type validator interface{ ValidateAll() error }

// visitTyped validates m, calls visit for m and every message nested in it,
// and unpacks every Any on the way (an unregistered type fails), validating
// and walking the typed message too. protoc-gen-validate does not descend
// into Any, so without this walk an invalid HttpConnectionManager or Wasm
// config inside a listener would pass.
func visitTyped(t testing.TB, where string, m proto.Message, visit func(proto.Message)) {
	t.Helper()
	if v, ok := m.(validator); ok {
		if err := v.ValidateAll(); err != nil {
			t.Errorf("%s: %s: %v", where, m.ProtoReflect().Descriptor().FullName(), err)
		}
	}
	var walk func(protoreflect.Message)
	walk = func(rm protoreflect.Message) {
		visit(rm.Interface())
		if any, ok := rm.Interface().(*anypb.Any); ok {
			inner, err := any.UnmarshalNew()
			if err != nil {
				t.Errorf("%s: unpack %s: %v", where, any.GetTypeUrl(), err)
				return
			}
			visitTyped(t, where, inner, visit)
			return
		}
		rm.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := 0; i < v.List().Len(); i++ {
					walk(v.List().Get(i).Message())
				}
			case fd.IsMap() && fd.MapValue().Message() != nil:
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					walk(mv.Message())
					return true
				})
			case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
				walk(v.Message())
			}
			return true
		})
	}
	walk(m.ProtoReflect())
}

// pluginConfigs returns every Wasm PluginConfig in the file and the JSON
// plugin configuration each carries as a StringValue.
func pluginConfigs(t testing.TB, rel string) ([]*wasmv3.PluginConfig, []string) {
	t.Helper()
	var pcs []*wasmv3.PluginConfig
	var jsons []string
	visit := func(m proto.Message) {
		pc, ok := m.(*wasmv3.PluginConfig)
		if !ok {
			return
		}
		pcs = append(pcs, pc)
		var s wrapperspb.StringValue
		if err := pc.GetConfiguration().UnmarshalTo(&s); err != nil {
			t.Errorf("%s: plugin %q configuration must be a google.protobuf.StringValue: %v", rel, pc.GetName(), err)
			return
		}
		jsons = append(jsons, s.GetValue())
	}
	for _, m := range loadEnvoyFile(t, rel) {
		visitTyped(t, rel, m, visit)
	}
	return pcs, jsons
}

func TestEnvoyConfigs_valid(t *testing.T) {
	for _, rel := range envoyYAMLFiles(t) {
		t.Run(rel, func(t *testing.T) {
			seen := map[string]bool{}
			ms := loadEnvoyFile(t, rel)
			if len(ms) == 0 {
				t.Fatalf("%s: no resources", rel)
			}
			for _, m := range ms {
				visitTyped(t, rel, m, func(m proto.Message) {
					seen[string(m.ProtoReflect().Descriptor().FullName())] = true
				})
			}
			// Each file must actually contain the Nedry filter; a typo that
			// drops it would otherwise validate as an empty proxy.
			for _, want := range wantTypes(rel) {
				if !seen[want] {
					t.Errorf("%s: no %s found; have %v", rel, want, keys(seen))
				}
			}
		})
	}
}

// wantTypes lists the typed configs each shipped file must contain.
func wantTypes(rel string) []string {
	switch rel {
	case envoyYAML:
		return []string{
			"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
			"envoy.extensions.filters.http.wasm.v3.Wasm",
			"envoy.extensions.filters.http.router.v3.Router",
			"envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
		}
	case ecdsBootstrap:
		return []string{
			"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
			"envoy.extensions.filters.http.router.v3.Router",
		}
	case ecdsResource:
		return []string{
			"envoy.config.core.v3.TypedExtensionConfig",
			"envoy.extensions.filters.http.wasm.v3.Wasm",
		}
	}
	return nil
}

func keys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestEnvoyConfigs_unknownFieldRejected(t *testing.T) {
	tests := []struct {
		name, yaml, wantErr string
	}{
		{
			name:    "top-level typo",
			yaml:    "static_resorces: {}\n",
			wantErr: "static_resorces",
		},
		{
			name: "typo inside a typed config",
			yaml: `static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 127.0.0.1, port_value: 1}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefx: x
`,
			wantErr: "stat_prefx",
		},
		{
			name: "unregistered Any type",
			yaml: `static_resources:
  listeners:
  - name: l
    filter_chains:
    - filters:
      - name: x
        typed_config: {"@type": type.googleapis.com/nedry.NoSuchType}
`,
			wantErr: "nedry.NoSuchType",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := DecodeYAML([]byte(tc.yaml), &bootstrapv3.Bootstrap{})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want error mentioning %q, have %v", tc.wantErr, err)
			}
		})
	}
}

// TestEnvoyConfigs_nestedValidation proves visitTyped reaches inside Any: an
// HttpConnectionManager with an empty stat_prefix, packed in a listener, must
// be reported although the bootstrap's own ValidateAll passes.
func TestEnvoyConfigs_nestedValidation(t *testing.T) {
	const bad = `static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 127.0.0.1, port_value: 1}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ""
          route_config: {name: r}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
`
	var b bootstrapv3.Bootstrap
	if err := DecodeYAML([]byte(bad), &b); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if err := b.ValidateAll(); err != nil {
		t.Fatalf("the outer bootstrap alone should validate (PGV stops at Any), got %v", err)
	}
	rec := &recorder{TB: t}
	visitTyped(rec, "bad", &b, func(proto.Message) {})
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "HttpConnectionManager") || !strings.Contains(rec.errs[0], "StatPrefix") {
		t.Fatalf("want one StatPrefix error from inside the HttpConnectionManager Any, have %q", rec.errs)
	}
}

// recorder captures Errorf calls so a test can assert that a check fails.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func TestEnvoyConfigs_wasmFilter(t *testing.T) {
	for _, rel := range []string{envoyYAML, ecdsResource} {
		t.Run(rel, func(t *testing.T) {
			pcs, _ := pluginConfigs(t, rel)
			if len(pcs) != 1 {
				t.Fatalf("want 1 wasm plugin, have %d", len(pcs))
			}
			pc := pcs[0]
			if have := pc.GetFailurePolicy(); have != wasmv3.FailurePolicy_FAIL_OPEN {
				t.Errorf("failure_policy: want FAIL_OPEN, have %v", have)
			}
			vm := pc.GetVmConfig()
			if have := vm.GetRuntime(); have != "envoy.wasm.runtime.v8" {
				t.Errorf("vm_config.runtime: want envoy.wasm.runtime.v8, have %q", have)
			}
			if have := vm.GetCode().GetLocal().GetFilename(); have != wasmPath {
				t.Errorf("vm_config.code.local.filename: want %q, have %q", wasmPath, have)
			}
		})
	}
}

// The Envoy files embed the quickstart configuration, so make run, Envoy and
// the e2e test all exercise the same rules.
func TestEnvoyConfigs_pluginConfigIsQuickstart(t *testing.T) {
	want := decodeJSON(t, quickstart, readRepoFile(t, quickstart))
	for _, rel := range []string{envoyYAML, ecdsResource} {
		t.Run(rel, func(t *testing.T) {
			_, jsons := pluginConfigs(t, rel)
			if len(jsons) != 1 {
				t.Fatalf("want 1 plugin configuration, have %d", len(jsons))
			}
			have := decodeJSON(t, rel, []byte(jsons[0]))
			if !reflect.DeepEqual(have, want) {
				t.Fatalf("embedded plugin configuration differs from %s:\nhave %s\nwant %s", quickstart, jsons[0], readRepoFile(t, quickstart))
			}
		})
	}
}

func decodeJSON(t testing.TB, where string, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: plugin configuration is not JSON: %v", where, err)
	}
	return v
}

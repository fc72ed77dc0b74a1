package envoy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
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

// hcmOf returns the first listener's HttpConnectionManager.
func hcmOf(t testing.TB, b *bootstrapv3.Bootstrap) *hcmv3.HttpConnectionManager {
	t.Helper()
	var hcm hcmv3.HttpConnectionManager
	ls := b.GetStaticResources().GetListeners()
	if len(ls) == 0 || len(ls[0].GetFilterChains()) == 0 || len(ls[0].GetFilterChains()[0].GetFilters()) == 0 {
		t.Fatalf("bootstrap has no listener filter")
	}
	if err := ls[0].GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
		t.Fatalf("first listener filter: %v", err)
	}
	return &hcm
}

// TestECDS_layout pins the contract between ecds/envoy.yaml, the resource
// template and make push: the watched path, the resource name and its type.
func TestECDS_layout(t *testing.T) {
	b := loadBootstrap(t, ecdsBootstrap)
	hcm := hcmOf(t, b)
	f := hcm.GetHttpFilters()[0]
	if f.GetName() != ECDSResourceName {
		t.Fatalf("first http filter: want %q, have %q", ECDSResourceName, f.GetName())
	}
	cd := f.GetConfigDiscovery()
	if cd == nil {
		t.Fatalf("filter %q: want config_discovery, have %v", f.GetName(), f.GetConfigType())
	}
	pcs := cd.GetConfigSource().GetPathConfigSource()
	if have := pcs.GetPath(); have != ecdsWatched {
		t.Errorf("path_config_source.path: want %q (what make push writes), have %q", ecdsWatched, have)
	}
	if have, want := pcs.GetWatchedDirectory().GetPath(), path.Dir(ecdsWatched); have != want {
		t.Errorf("watched_directory.path: want %q (the renamed file's directory), have %q", want, have)
	}

	resp := loadEnvoyFile(t, ecdsResource)
	if len(resp) != 1 {
		t.Fatalf("%s: want 1 resource, have %d", ecdsResource, len(resp))
	}
	var tec corev3.TypedExtensionConfig
	if err := resp[0].(*anypb.Any).UnmarshalTo(&tec); err != nil {
		t.Fatalf("%s: resources[0]: %v", ecdsResource, err)
	}
	if tec.GetName() != f.GetName() {
		t.Errorf("%s: resource name %q must equal the filter name %q", ecdsResource, tec.GetName(), f.GetName())
	}
	if !contains(cd.GetTypeUrls(), tec.GetTypedConfig().GetTypeUrl()) {
		t.Errorf("type_urls %v must allow the resource's %s", cd.GetTypeUrls(), tec.GetTypedConfig().GetTypeUrl())
	}
}

// The ECDS bootstrap must differ from envoy.yaml only in how the Nedry filter
// gets its configuration.
func TestECDS_sameProxyAsEnvoyYAML(t *testing.T) {
	static := loadBootstrap(t, envoyYAML)
	ecds := loadBootstrap(t, ecdsBootstrap)
	hs, he := hcmOf(t, static), hcmOf(t, ecds)
	hs.HttpFilters[0], he.HttpFilters[0] = nil, nil
	if !proto.Equal(hs, he) {
		t.Errorf("http connection managers differ beyond the nedry filter:\n%v\n%v", hs, he)
	}
	for _, b := range []*bootstrapv3.Bootstrap{static, ecds} {
		b.GetStaticResources().GetListeners()[0].GetFilterChains()[0].GetFilters()[0].ConfigType = nil
	}
	if !proto.Equal(static, ecds) {
		t.Errorf("bootstraps differ beyond the listener's http connection manager:\n%v\n%v", static, ecds)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// extractTag applies one stats_tags regex the way Envoy's tag extractor does:
// the first capture group is cut from the stat name, the second (or the
// first, when there is only one) is the tag value.
func extractTag(re *regexp.Regexp, name string) (value, rest string, ok bool) {
	m := re.FindStringSubmatchIndex(name)
	if m == nil || m[2] < 0 {
		return "", name, false
	}
	v := 1
	if re.NumSubexp() >= 2 && m[4] >= 0 {
		v = 2
	}
	return name[m[2*v]:m[2*v+1]], name[:m[2]] + name[m[3]:], true
}

func TestStatsTags_nedryRule(t *testing.T) {
	tests := []struct {
		stat, wantTag, wantRest string
	}{
		{"wasmcustom.nedry.rule.payments.aborts_injected", "payments", "wasmcustom.nedry.rule.aborts_injected"},
		{"wasmcustom.nedry.rule.payments.matched", "payments", "wasmcustom.nedry.rule.matched"},
		{"wasmcustom.nedry.rule.search.delays_injected", "search", "wasmcustom.nedry.rule.delays_injected"},
		{"wasmcustom.nedry.rule.users_grpc.corruptions_injected", "users_grpc", "wasmcustom.nedry.rule.corruptions_injected"},
		{"wasmcustom.nedry.rule.edge-01.resets_injected", "edge-01", "wasmcustom.nedry.rule.resets_injected"},
		{"wasmcustom.nedry.rule.abort_demo.faults_overflow", "abort_demo", "wasmcustom.nedry.rule.faults_overflow"},
		// Without the namespace prefix, should an Envoy register it that way.
		{"nedry.rule.payments.aborts_injected", "payments", "nedry.rule.aborts_injected"},
		// Under a scope prefix, as a filter delivered by ECDS might be.
		{"extension_config_discovery.http_filter.nedry.wasmcustom.nedry.rule.payments.aborts_injected", "payments", "extension_config_discovery.http_filter.nedry.wasmcustom.nedry.rule.aborts_injected"},
		// "nedry.rule." must start a segment.
		{"wasmcustom.notnedry.rule.payments.aborts_injected", "", "wasmcustom.notnedry.rule.payments.aborts_injected"},
		// Global metrics carry no rule tag.
		{"wasmcustom.nedry.errors", "", "wasmcustom.nedry.errors"},
		{"wasmcustom.nedry.config_rejected", "", "wasmcustom.nedry.config_rejected"},
		{"wasmcustom.nedry.active_faults", "", "wasmcustom.nedry.active_faults"},
		// Other plugins' metrics are left alone.
		{"wasmcustom.other.rule.payments.aborts_injected", "", "wasmcustom.other.rule.payments.aborts_injected"},
	}
	for _, rel := range []string{envoyYAML, ecdsBootstrap} {
		b := loadBootstrap(t, rel)
		var re *regexp.Regexp
		for _, st := range b.GetStatsConfig().GetStatsTags() {
			if st.GetTagName() == "nedry_rule" {
				re = regexp.MustCompile(st.GetRegex())
			}
		}
		if re == nil {
			t.Fatalf("%s: no stats_tags entry with tag_name nedry_rule", rel)
		}
		for _, tc := range tests {
			t.Run(rel+"/"+tc.stat, func(t *testing.T) {
				tag, rest, ok := extractTag(re, tc.stat)
				if ok != (tc.wantTag != "") || tag != tc.wantTag || rest != tc.wantRest {
					t.Fatalf("want tag %q, name %q; have tag %q (matched %v), name %q", tc.wantTag, tc.wantRest, tag, ok, rest)
				}
			})
		}
	}
}

// routeNames returns the route names of envoy.yaml, which rules match with
// match.route_name.
func routeNames(t testing.TB) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	b := loadBootstrap(t, envoyYAML)
	for _, vh := range hcmOf(t, b).GetRouteConfig().GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			names[r.GetName()] = true
		}
	}
	return names
}

// Every route_name an example rule matches on must exist in envoy.yaml, or
// the example would silently never fire there.
func TestRouteNames_coverExamples(t *testing.T) {
	routes := routeNames(t)
	for _, want := range []string{"payments", "search", "users_grpc"} {
		if !routes[want] {
			t.Errorf("envoy.yaml: no route named %q", want)
		}
	}
	files, err := filepath.Glob(filepath.Join(repoRoot, "examples", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples/*.json found (err %v)", err)
	}
	used := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			Rules []struct {
				Name  string `json:"name"`
				Match struct {
					RouteName string `json:"route_name"`
				} `json:"match"`
			} `json:"rules"`
		}
		if err := json.Unmarshal(data, &cfg); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		for _, r := range cfg.Rules {
			if rn := r.Match.RouteName; rn != "" {
				used++
				if !routes[rn] {
					t.Errorf("%s: rule %q matches route_name %q, which envoy.yaml does not define (have %v)", filepath.Base(f), r.Name, rn, keys(routes))
				}
			}
		}
	}
	if used == 0 {
		t.Fatalf("no example uses match.route_name; this test would check nothing")
	}
}

// TestECDS_makePush pins make push to the file the ECDS bootstrap watches
// (under build/, so a push never modifies a tracked file) and checks that
// make push without CONFIG says so before building anything. make -n prints
// the commands without running them.
func TestECDS_makePush(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make in PATH")
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"default path", []string{"push", "CONFIG=" + quickstart}, 0,
			"nedry push --wasm build/nedry.wasm --config " + quickstart + " --ecds " + ecdsWatched + "\n"},
		{"template copied when missing", []string{"push", "CONFIG=" + quickstart}, 0,
			"cp " + ecdsResource + " " + ecdsWatched},
		{"user path", []string{"push", "CONFIG=" + quickstart, "ECDS=/srv/envoy/nedry.yaml"}, 0,
			"--ecds /srv/envoy/nedry.yaml\n"},
		{"no config", []string{"push"}, 2,
			"make push: set CONFIG to the configuration to push, for example make push CONFIG=examples/latency-jitter.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("make", append([]string{"-n", "-C", repoRoot}, tt.args...)...)
			out, err := cmd.CombinedOutput()
			code := 0
			if err != nil {
				var ee *exec.ExitError
				if !errors.As(err, &ee) {
					t.Fatal(err)
				}
				code = ee.ExitCode()
			}
			if code != tt.wantCode || !strings.Contains(string(out), tt.want) {
				t.Fatalf("make -n %s: want exit %d and %q in the output, have exit %d:\n%s", strings.Join(tt.args, " "), tt.wantCode, tt.want, code, out)
			}
			if tt.wantCode == 0 && strings.Contains(string(out), "--ecds "+ecdsResource) {
				t.Fatalf("make -n %s writes the shipped template %s:\n%s", strings.Join(tt.args, " "), ecdsResource, out)
			}
		})
	}
}

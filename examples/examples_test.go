package examples

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	extensionsv1alpha1 "istio.io/api/extensions/v1alpha1"
	"sigs.k8s.io/yaml"
)

// repoRoot is the module root as seen from this package's directory.
const repoRoot = ".."

// The scenario configs the README promises, besides quickstart.json.
var wantScenarios = []string{
	"quickstart.json",
	"abort-payments.json",
	"grpc-unavailable.json",
	"latency-jitter.json",
	"corrupt-auth.json",
	"reset.json",
	"header-control.json",
	"dry-run.json",
	"business-hours.json",
	"breaking-point.json",
	"bad-data.json",
	"duplicate-payments.json",
}

// exampleConfigs returns every examples/*.json with its content.
func exampleConfigs(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = data
	}
	for _, want := range wantScenarios {
		if _, ok := out[want]; !ok {
			t.Errorf("examples/%s is missing", want)
		}
	}
	return out
}

// TestExamples_json checks what can be checked without the filter: each file
// is one JSON object with rules. The filter's own verdict comes from
// TestExamples_checkedByWasm.
func TestExamples_json(t *testing.T) {
	for name, data := range exampleConfigs(t) {
		t.Run(name, func(t *testing.T) {
			dec := json.NewDecoder(bytes.NewReader(data))
			var cfg map[string]json.RawMessage
			if err := dec.Decode(&cfg); err != nil {
				t.Fatalf("not a JSON object: %v", err)
			}
			if dec.More() {
				t.Fatalf("trailing data after the JSON object")
			}
			if _, ok := cfg["rules"]; !ok {
				t.Errorf("no rules key; every example states its rules, even when empty")
			}
		})
	}
}

// wasmPlugin is a WasmPlugin manifest. The spec is decoded separately with
// protojson so Istio's own schema rejects unknown fields.
type wasmPlugin struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   objectMeta      `json:"metadata"`
	Spec       json.RawMessage `json:"spec"`
}

// objectMeta holds the metadata fields a shipped manifest may use.
type objectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// loadWasmPlugin decodes an Istio manifest strictly: unknown top-level or
// metadata fields and unknown spec fields are errors.
func loadWasmPlugin(t testing.TB, path string) (*wasmPlugin, *extensionsv1alpha1.WasmPlugin) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var wp wasmPlugin
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&wp); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if wp.APIVersion != "extensions.istio.io/v1alpha1" || wp.Kind != "WasmPlugin" {
		t.Fatalf("%s: want apiVersion extensions.istio.io/v1alpha1, kind WasmPlugin; have %q, %q", path, wp.APIVersion, wp.Kind)
	}
	if wp.Metadata.Name == "" {
		t.Errorf("%s: metadata.name is empty", path)
	}
	var spec extensionsv1alpha1.WasmPlugin
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(wp.Spec, &spec); err != nil {
		t.Fatalf("%s: spec: %v", path, err)
	}
	return &wp, &spec
}

func istioManifests(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("istio", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatalf("no examples/istio/*.yaml found")
	}
	return files
}

func TestIstio_wasmPlugin(t *testing.T) {
	schemes := map[string]bool{}
	for _, path := range istioManifests(t) {
		t.Run(path, func(t *testing.T) {
			_, spec := loadWasmPlugin(t, path)
			if len(spec.GetSelector().GetMatchLabels()) == 0 && len(spec.GetTargetRefs()) == 0 {
				t.Errorf("no selector or targetRefs: the plugin would apply to every workload in the namespace")
			}
			scheme, _, ok := strings.Cut(spec.GetUrl(), "://")
			if !ok || (scheme != "oci" && scheme != "file") {
				t.Errorf("url: want oci:// or file://, have %q", spec.GetUrl())
			}
			schemes[scheme] = true
			if have := spec.GetFailStrategy(); have != extensionsv1alpha1.FailStrategy_FAIL_OPEN {
				t.Errorf("failStrategy: want FAIL_OPEN, have %v", have)
			}
			if spec.GetPhase() == extensionsv1alpha1.PluginPhase_UNSPECIFIED_PHASE {
				t.Errorf("phase: want an explicit phase, have none")
			}
			if have := spec.GetType(); have != extensionsv1alpha1.PluginType_HTTP {
				t.Errorf("type: want HTTP, have %v", have)
			}
			if len(spec.GetPluginConfig().GetFields()) == 0 {
				t.Errorf("pluginConfig is empty")
			}
		})
	}
	for _, want := range []string{"oci", "file"} {
		if !schemes[want] {
			t.Errorf("want a WasmPlugin with a %s:// url", want)
		}
	}
}

func TestIstio_unknownFieldRejected(t *testing.T) {
	tests := []struct{ name, spec, wantErr string }{
		{"typo", `{"url":"oci://x/y","failStratgy":"FAIL_OPEN"}`, "failStratgy"},
		{"bad enum", `{"url":"oci://x/y","failStrategy":"FAIL_OPENED"}`, "FAIL_OPENED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var spec extensionsv1alpha1.WasmPlugin
			err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal([]byte(tc.spec), &spec)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want error mentioning %q, have %v", tc.wantErr, err)
			}
		})
	}
}

// istioPluginConfigs returns each manifest's pluginConfig as the JSON string
// Istio hands to the filter.
func istioPluginConfigs(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, path := range istioManifests(t) {
		_, spec := loadWasmPlugin(t, path)
		js, err := protojson.Marshal(spec.GetPluginConfig())
		if err != nil {
			t.Fatalf("%s: pluginConfig: %v", path, err)
		}
		out[path] = string(js)
	}
	return out
}

// TestDockerfile checks the image layout Istio pulls: FROM scratch and the
// module copied to /plugin.wasm from a path make build produces.
func TestDockerfile(t *testing.T) {
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var instrs [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instrs = append(instrs, strings.Fields(line))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(instrs) != 2 {
		t.Fatalf("want exactly FROM and COPY, have %v", instrs)
	}
	if strings.Join(instrs[0], " ") != "FROM scratch" {
		t.Errorf("first instruction: want FROM scratch, have %v", instrs[0])
	}
	cp := instrs[1]
	if len(cp) != 3 || cp[0] != "COPY" {
		t.Fatalf("second instruction: want COPY SRC plugin.wasm, have %v", cp)
	}
	if dst := strings.TrimPrefix(strings.TrimPrefix(cp[2], "."), "/"); dst != "plugin.wasm" {
		t.Errorf("COPY destination: want plugin.wasm at the image root, have %q", cp[2])
	}
	if cp[1] != "build/nedry.wasm" {
		t.Errorf("COPY source: want build/nedry.wasm (what make build writes), have %q", cp[1])
	}
	if _, err := os.Stat(filepath.Join(repoRoot, cp[1])); err != nil {
		t.Errorf("COPY source %s: %v (run make build)", cp[1], err)
	}
}

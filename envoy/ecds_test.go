package envoy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	wasmfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	wasmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/wasm/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// decodeECDS unpacks an ECDS file down to the Wasm filter.
func decodeECDS(t testing.TB, data []byte) (*ecdsFile, *corev3.TypedExtensionConfig, *wasmfilterv3.Wasm) {
	t.Helper()
	resp, err := decodeECDSFile(data)
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, data)
	}
	if len(resp.Resources) != 1 {
		t.Fatalf("want 1 resource, have %d", len(resp.Resources))
	}
	var tec corev3.TypedExtensionConfig
	if err := resp.Resources[0].UnmarshalTo(&tec); err != nil {
		t.Fatalf("resources[0]: %v", err)
	}
	var w wasmfilterv3.Wasm
	if err := tec.GetTypedConfig().UnmarshalTo(&w); err != nil {
		t.Fatalf("typed_config: %v", err)
	}
	return resp, &tec, &w
}

func TestRenderECDS(t *testing.T) {
	shipped := readRepoFile(t, ecdsResource)
	const newConfig = `{"rules":[{"name":"teapot","match":{"prefix":"/abort"},"abort":{"percent":100,"http_status":418}}]}`
	out, err := RenderECDS(shipped, newConfig, "7")
	if err != nil {
		t.Fatalf("RenderECDS: %v", err)
	}
	resp, tec, w := decodeECDS(t, out)
	if resp.VersionInfo != "7" {
		t.Errorf("version_info: want 7, have %q", resp.VersionInfo)
	}
	if tec.GetName() != ECDSResourceName {
		t.Errorf("name: want %q, have %q", ECDSResourceName, tec.GetName())
	}
	var s wrapperspb.StringValue
	if err := w.GetConfig().GetConfiguration().UnmarshalTo(&s); err != nil {
		t.Fatalf("configuration: %v", err)
	}
	if s.GetValue() != newConfig {
		t.Errorf("configuration: want %s, have %s", newConfig, s.GetValue())
	}
	// What the push must not touch.
	_, _, orig := decodeECDS(t, shipped)
	if have := w.GetConfig().GetFailurePolicy(); have != wasmv3.FailurePolicy_FAIL_OPEN {
		t.Errorf("failure_policy: want FAIL_OPEN, have %v", have)
	}
	if have, want := w.GetConfig().GetVmConfig().String(), orig.GetConfig().GetVmConfig().String(); have != want {
		t.Errorf("vm_config changed:\nhave %s\nwant %s", have, want)
	}
	// The output is itself a valid file for the next push.
	again, err := RenderECDS(out, newConfig, "7")
	if err != nil {
		t.Fatalf("RenderECDS of its own output: %v", err)
	}
	if string(again) != string(out) {
		t.Errorf("rendering is not stable:\nfirst\n%s\nsecond\n%s", out, again)
	}
}

func TestRenderECDS_errors(t *testing.T) {
	tests := []struct {
		name, file, wantErr string
	}{
		{
			name:    "no resources",
			file:    "version_info: \"1\"\n",
			wantErr: "resources: want exactly 1 TypedExtensionConfig, got 0",
		},
		{
			name: "wrong resource name",
			file: `resources:
- "@type": type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig
  name: other
  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm, config: {}}
`,
			wantErr: `resources[0].name: must be "nedry", got "other"`,
		},
		{
			name: "not a wasm filter",
			file: `resources:
- "@type": type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig
  name: nedry
  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
`,
			wantErr: "resources[0].typed_config:",
		},
		{
			name: "wasm filter without config",
			file: `resources:
- "@type": type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig
  name: nedry
  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm}
`,
			wantErr: "resources[0].typed_config.config: missing",
		},
		{
			name:    "unknown field",
			file:    "resources: []\nversion_inf: x\n",
			wantErr: "version_inf",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RenderECDS([]byte(tc.file), "{}", "1")
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want error containing %q, have %v", tc.wantErr, err)
			}
		})
	}
}

func TestWriteECDS(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "nedry-filter.yaml")
	if err := os.WriteFile(p, readRepoFile(t, ecdsResource), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteECDS(p, `{"enabled":false}`, "2"); err != nil {
		t.Fatalf("WriteECDS: %v", err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	resp, _, w := decodeECDS(t, data)
	var s wrapperspb.StringValue
	if err := w.GetConfig().GetConfiguration().UnmarshalTo(&s); err != nil {
		t.Fatal(err)
	}
	if resp.VersionInfo != "2" || s.GetValue() != `{"enabled":false}` {
		t.Errorf("want version 2 and the new config, have %q and %s", resp.VersionInfo, s.GetValue())
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode: want 0640 kept, have %v", fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("want only nedry-filter.yaml left in the directory, have %v", entries)
	}

	// A broken file is refused and left exactly as it was.
	const broken = "resources: []\n"
	if err := os.WriteFile(p, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteECDS(p, "{}", "3"); err == nil {
		t.Fatalf("WriteECDS on a file without resources: want error, have nil")
	}
	if data, _ := os.ReadFile(p); string(data) != broken {
		t.Errorf("refused write changed the file:\n%s", data)
	}
	if err := WriteECDS(filepath.Join(dir, "missing.yaml"), "{}", "1"); err == nil {
		t.Errorf("WriteECDS on a missing file: want error, have nil")
	}
}

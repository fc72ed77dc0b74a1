package envoy

import (
	"errors"
	"os/exec"
	"path"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

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

//go:build e2e

// The real-Envoy end-to-end test (make e2e). It runs the shipped envoy.yaml
// and ecds/envoy.yaml, with ports and paths substituted, in an Envoy found on
// PATH or in ENVOY_BIN, in front of an upstream the test starts itself.

package envoy

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	wasmfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

const (
	// Bounds for one Envoy process and for the waits inside it. V8 compiles
	// the Go module at startup, which takes seconds, not milliseconds.
	envoyLifetime = 3 * time.Minute
	readyTimeout  = 90 * time.Second
	pollTimeout   = 30 * time.Second
	pollInterval  = 100 * time.Millisecond
)

// findEnvoy returns the Envoy binary, or skips the test with one line saying
// why. With NEDRY_E2E_REQUIRE_ENVOY set (CI), a missing Envoy fails instead.
func findEnvoy(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("ENVOY_BIN")
	if bin == "" {
		if p, err := exec.LookPath("envoy"); err == nil {
			bin = p
		}
	}
	if bin == "" {
		msg := "no envoy binary: put Envoy >= 1.33 on PATH or set ENVOY_BIN to run the real-Envoy test"
		if os.Getenv("NEDRY_E2E_REQUIRE_ENVOY") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return bin
}

// absWasm returns the absolute path of build/nedry.wasm, failing (never
// skipping) when it has not been built.
func absWasm(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(repoRoot, wasmPath))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s: %v: run make build", wasmPath, err)
	}
	return p
}

func freePort(t *testing.T) uint32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return uint32(l.Addr().(*net.TCPAddr).Port)
}

// ports are the loopback ports one Envoy run uses.
type ports struct {
	admin, listener, upstream uint32
}

// renderBootstrap loads a shipped bootstrap, points it at the test's ports
// and absolute paths, and writes it as JSON (which Envoy reads as YAML) into
// dir. ecdsFile, when set, replaces the watched ECDS path.
func renderBootstrap(t *testing.T, rel string, p ports, wasm, dir, ecdsFile string) string {
	t.Helper()
	b := loadBootstrap(t, rel)
	b.GetAdmin().GetAddress().GetSocketAddress().PortSpecifier = &corev3.SocketAddress_PortValue{PortValue: p.admin}
	l := b.GetStaticResources().GetListeners()[0]
	l.GetAddress().GetSocketAddress().PortSpecifier = &corev3.SocketAddress_PortValue{PortValue: p.listener}
	for _, c := range b.GetStaticResources().GetClusters() {
		for _, e := range c.GetLoadAssignment().GetEndpoints() {
			for _, lb := range e.GetLbEndpoints() {
				lb.GetEndpoint().GetAddress().GetSocketAddress().PortSpecifier = &corev3.SocketAddress_PortValue{PortValue: p.upstream}
			}
		}
	}

	hcm := hcmOf(t, b)
	f := hcm.GetHttpFilters()[0]
	switch {
	case f.GetTypedConfig() != nil:
		var w wasmfilterv3.Wasm
		if err := f.GetTypedConfig().UnmarshalTo(&w); err != nil {
			t.Fatal(err)
		}
		w.GetConfig().GetVmConfig().GetCode().GetLocal().Specifier = &corev3.DataSource_Filename{Filename: wasm}
		if err := f.GetTypedConfig().MarshalFrom(&w); err != nil {
			t.Fatal(err)
		}
	case f.GetConfigDiscovery() != nil:
		pcs := f.GetConfigDiscovery().GetConfigSource().GetPathConfigSource()
		pcs.Path = ecdsFile
		pcs.WatchedDirectory = &corev3.WatchedDirectory{Path: filepath.Dir(ecdsFile)}
	default:
		t.Fatalf("%s: first http filter has neither typed_config nor config_discovery", rel)
	}
	if err := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().MarshalFrom(hcm); err != nil {
		t.Fatal(err)
	}
	return writeProto(t, b, filepath.Join(dir, "envoy.json"))
}

func writeProto(t *testing.T, b *bootstrapv3.Bootstrap, path string) string {
	t.Helper()
	js, err := protojson.MarshalOptions{UseProtoNames: true, Multiline: true}.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, js, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// renderECDSFile writes the shipped ECDS resource into dir with the wasm
// path made absolute, as a user's copy would be.
func renderECDSFile(t *testing.T, wasm, dir string) string {
	t.Helper()
	f, err := decodeECDSFile(readRepoFile(t, ecdsResource))
	if err != nil {
		t.Fatal(err)
	}
	var tec corev3.TypedExtensionConfig
	if err := f.Resources[0].UnmarshalTo(&tec); err != nil {
		t.Fatal(err)
	}
	var w wasmfilterv3.Wasm
	if err := tec.GetTypedConfig().UnmarshalTo(&w); err != nil {
		t.Fatal(err)
	}
	w.GetConfig().GetVmConfig().GetCode().GetLocal().Specifier = &corev3.DataSource_Filename{Filename: wasm}
	if err := tec.GetTypedConfig().MarshalFrom(&w); err != nil {
		t.Fatal(err)
	}
	if err := f.Resources[0].MarshalFrom(&tec); err != nil {
		t.Fatal(err)
	}
	out, err := f.encode()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "nedry-filter.yaml")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestE2E_envoyYAML(t *testing.T) {
	bin := findEnvoy(t)
	wasm := absWasm(t)
	up := startUpstream(t)
	p := ports{admin: freePort(t), listener: freePort(t), upstream: up.port}
	cfg := renderBootstrap(t, envoyYAML, p, wasm, t.TempDir(), "")
	startEnvoy(t, bin, cfg, p)

	t.Run("no rule matches", func(t *testing.T) {
		resp, body, _ := do(t, p, "/plain", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "upstream: GET /plain") {
			t.Fatalf("want 200 from the upstream, have %d %q", resp.StatusCode, body)
		}
		if tag := resp.Header.Get("x-nedry-fault"); tag != "" {
			t.Errorf("untouched response tagged x-nedry-fault: %q", tag)
		}
	})

	t.Run("abort", func(t *testing.T) {
		resp, body, _ := do(t, p, "/abort", nil)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("want 503, have %d %q", resp.StatusCode, body)
		}
		if !strings.Contains(body, "nedry fault: abort") {
			t.Errorf("body: want the configured abort body, have %q", body)
		}
		if tag := resp.Header.Get("x-nedry-fault"); !strings.Contains(tag, "abort_demo") {
			t.Errorf("x-nedry-fault: want the rule name abort_demo, have %q", tag)
		}
		if _, hits := up.seen("/abort"); hits != 0 {
			t.Errorf("upstream saw %d aborted requests, want 0", hits)
		}
	})

	t.Run("delay", func(t *testing.T) {
		// quickstart: fixed 1s, jitter 200ms, so at least 800ms.
		resp, body, took := do(t, p, "/delay", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "upstream: GET /delay") {
			t.Fatalf("want 200 from the upstream after the delay, have %d %q", resp.StatusCode, body)
		}
		if took < 800*time.Millisecond {
			t.Errorf("delayed request took %v, want at least 800ms", took)
		}
	})

	t.Run("corrupt", func(t *testing.T) {
		const auth = "Bearer e2e-secret-token"
		resp, body, _ := do(t, p, "/corrupt", map[string]string{"Authorization": auth})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("want 200, have %d %q", resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/x-nedry-corrupted" {
			t.Errorf("content-type: want application/x-nedry-corrupted, have %q", ct)
		}
		seen, hits := up.seen("/corrupt")
		if hits != 1 || seen == auth || len(seen) != len(auth) {
			t.Errorf("upstream authorization: want a garbled value of length %d, have %q (%d hits)", len(auth), seen, hits)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		for _, c := range []string{
			"nedry.rule.abort_demo.aborts_injected",
			"nedry.rule.delay_demo.delays_injected",
			"nedry.rule.corrupt_demo.corruptions_injected",
		} {
			eventually(t, c, func() (bool, string) {
				n := counter(t, p, c)
				return n >= 1, strconv.Itoa(n)
			})
		}
		// The nedry_rule tag from stats_tags, as Prometheus sees it.
		eventually(t, "prometheus nedry_rule tag", func() (bool, string) {
			body, _, err := get(adminURL(p, "/stats/prometheus"))
			if err != nil {
				return false, err.Error()
			}
			for _, line := range strings.Split(body, "\n") {
				if strings.Contains(line, "aborts_injected") && strings.Contains(line, `nedry_rule="abort_demo"`) {
					return true, line
				}
			}
			return false, "no aborts_injected line with nedry_rule=\"abort_demo\""
		})
	})
}

func TestE2E_ecdsPush(t *testing.T) {
	bin := findEnvoy(t)
	wasm := absWasm(t)
	up := startUpstream(t)
	p := ports{admin: freePort(t), listener: freePort(t), upstream: up.port}
	dir := t.TempDir()
	ecdsDir := filepath.Join(dir, "ecds")
	if err := os.Mkdir(ecdsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	ecdsFile := renderECDSFile(t, wasm, ecdsDir)
	cfg := renderBootstrap(t, ecdsBootstrap, p, wasm, dir, ecdsFile)
	startEnvoy(t, bin, cfg, p)

	status := func(path string) int {
		resp, _, _ := do(t, p, path, nil)
		return resp.StatusCode
	}
	if code := status("/abort"); code != http.StatusServiceUnavailable {
		t.Fatalf("before the push: want 503 from the quickstart config, have %d", code)
	}

	// A good push: Envoy sees the rename and applies the new rules.
	const teapot = `{"rules":[{"name":"teapot","match":{"prefix":"/abort"},"abort":{"percent":100,"http_status":418}}]}`
	if err := WriteECDS(ecdsFile, teapot, "2"); err != nil {
		t.Fatalf("push: %v", err)
	}
	eventually(t, "pushed config applied", func() (bool, string) {
		code := status("/abort")
		return code == http.StatusTeapot, strconv.Itoa(code)
	})

	// A push the filter refuses: Envoy NACKs it and keeps serving the last
	// good configuration.
	failBefore := max(counter(t, p, ".nedry.config_fail"), 0)
	const bad = `{"rules":[{"name":"typo","match":{"prefix":"/abort"},"abrot":{"percent":100}}]}`
	if err := WriteECDS(ecdsFile, bad, "3"); err != nil {
		t.Fatalf("push: %v", err)
	}
	eventually(t, "bad config refused", func() (bool, string) {
		n := counter(t, p, ".nedry.config_fail")
		return n > failBefore, fmt.Sprintf("config_fail %d (before %d)", n, failBefore)
	})
	for i := 0; i < 5; i++ {
		if code := status("/abort"); code != http.StatusTeapot {
			t.Fatalf("after a refused push: want the previous config (418), have %d", code)
		}
	}
}

// TestE2E_render checks, without Envoy, that the rendered configurations the
// tests above hand to Envoy still decode and validate, with the test's ports
// and paths in place.
func TestE2E_render(t *testing.T) {
	dir := t.TempDir()
	p := ports{admin: 19901, listener: 20000, upstream: 18080}
	wasm := filepath.Join(dir, "nedry.wasm")
	ecdsFile := renderECDSFile(t, wasm, dir)
	for _, rel := range []string{envoyYAML, ecdsBootstrap} {
		cfg := renderBootstrap(t, rel, p, wasm, dir, ecdsFile)
		data, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var b bootstrapv3.Bootstrap
		if err := DecodeYAML(data, &b); err != nil {
			t.Fatalf("%s rendered: %v", rel, err)
		}
		visitTyped(t, rel+" rendered", &b, func(proto.Message) {})
		if have := b.GetAdmin().GetAddress().GetSocketAddress().GetPortValue(); have != p.admin {
			t.Errorf("%s: admin port %d, want %d", rel, have, p.admin)
		}
		if have := b.GetStaticResources().GetListeners()[0].GetAddress().GetSocketAddress().GetPortValue(); have != p.listener {
			t.Errorf("%s: listener port %d, want %d", rel, have, p.listener)
		}
		for _, c := range b.GetStaticResources().GetClusters() {
			for _, e := range c.GetLoadAssignment().GetEndpoints() {
				for _, lb := range e.GetLbEndpoints() {
					if have := lb.GetEndpoint().GetAddress().GetSocketAddress().GetPortValue(); have != p.upstream {
						t.Errorf("%s: cluster %s port %d, want %d", rel, c.GetName(), have, p.upstream)
					}
				}
			}
		}
		f := hcmOf(t, &b).GetHttpFilters()[0]
		if rel == envoyYAML {
			var w wasmfilterv3.Wasm
			if err := f.GetTypedConfig().UnmarshalTo(&w); err != nil {
				t.Fatal(err)
			}
			if have := w.GetConfig().GetVmConfig().GetCode().GetLocal().GetFilename(); have != wasm {
				t.Errorf("%s: wasm filename %q, want %q", rel, have, wasm)
			}
		} else {
			pcs := f.GetConfigDiscovery().GetConfigSource().GetPathConfigSource()
			if pcs.GetPath() != ecdsFile || pcs.GetWatchedDirectory().GetPath() != dir {
				t.Errorf("%s: ecds path %q in %q, want %q in %q", rel, pcs.GetPath(), pcs.GetWatchedDirectory().GetPath(), ecdsFile, dir)
			}
		}
	}
	data, err := os.ReadFile(ecdsFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "filename: "+wasm) {
		t.Errorf("rendered ECDS file does not load %s:\n%s", wasm, data)
	}
}

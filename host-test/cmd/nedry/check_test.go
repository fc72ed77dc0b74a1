package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/nedry-chaos/nedry/envoy"
	"github.com/nedry-chaos/nedry/envoy/ecdsfile"
	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// runCmd runs the command in process with a bounded context.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var o, e bytes.Buffer
	code = run(ctx, args, &o, &e)
	return code, o.String(), e.String()
}

func TestCheck(t *testing.T) {
	wasm := wasmFile(t)
	dir := t.TempDir()
	valid := writeFile(t, dir, "valid.json", `{"rules": [{"name": "a", "abort": {"percent": 10, "http_status": 503}}]}`)
	invalid := writeFile(t, dir, "invalid.json", `{"rules": [{"name": "a", "abort": {"percent": 10, "http_status": 700}, "abrot": {}}]}`)
	badJSON := writeFile(t, dir, "bad.json", "{\"rules\": [\n  {\"name\": \"a\",\n   \"abort\": {\"percent\": 10,}}\n]}\n")
	missing := filepath.Join(dir, "missing.json")
	tests := []struct {
		name       string
		files      []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{"valid", []string{valid}, 0, []string{valid + ": OK: 1 rule (a: abort 10%)\n"}, nil},
		{"invalid", []string{invalid}, 1, nil, []string{
			invalid + ": configuration refused",
			invalid + ": invalid configuration: rules[0] (a).abort.http_status: must be in [200, 599], got 700",
			invalid + ": invalid configuration: rules[0] (a).abrot: unknown field",
		}},
		{"invalid JSON, by line and column", []string{badJSON}, 1, nil, []string{
			badJSON + ": invalid configuration: config: invalid JSON at line 3, column 28 (byte offset 55): expected a string key, got '}'",
		}},
		{"missing", []string{missing}, 1, nil, []string{missing + ": read config: open " + missing}},
		{"one bad of two", []string{valid, invalid}, 1, []string{valid + ": OK"}, []string{invalid + ": invalid configuration: rules[0] (a).abort.http_status"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, append([]string{"check", "--wasm", wasm}, tc.files...)...)
			if code != tc.wantCode {
				t.Fatalf("exit status %d, want %d; stdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout, stderr)
			}
			for _, w := range tc.wantStdout {
				contains(t, "stdout", stdout, w)
			}
			for _, w := range tc.wantStderr {
				contains(t, "stderr", stderr, w)
			}
			if tc.wantCode == 0 && stderr != "" {
				t.Fatalf("stderr of a valid check: %s", stderr)
			}
		})
	}
	if code, _, stderr := runCmd(t, "check", "--wasm", wasm); code != 2 || !strings.Contains(stderr, "no configuration files given") {
		t.Fatalf("no files: have %d %q, want 2", code, stderr)
	}
	nope := filepath.Join(dir, "nope.wasm")
	if code, _, stderr := runCmd(t, "check", "--wasm", nope, valid); code != 1 || stderr != "nedry check: --wasm "+nope+": no such file\n" {
		t.Fatalf("missing wasm: have %d %q, want 1 and no such file (make build writes only build/nedry.wasm)", code, stderr)
	}
	// Flags after the files are flags, not files.
	code, stdout, stderr := runCmd(t, "check", valid, "--wasm", wasm)
	if code != 0 || stdout != valid+": OK: 1 rule (a: abort 10%)\n" {
		t.Fatalf("--wasm after the file: have %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// A module that is not Nedry (the no-op guest accepts anything) is refused.
	noop := hosttest.RepoPath("build", "guests", "noop.wasm")
	code, _, stderr = runCmd(t, "check", "--wasm", noop, valid)
	if want := "nedry check: " + noop + ": not the Nedry filter (no Nedry code in this module); build it with make build\n"; code != 1 || stderr != want {
		t.Fatalf("no-op guest: have %d %q, want 1 %q", code, stderr, want)
	}
}

// TestCheck_examples runs nedry check on every shipped example, as a user
// would before pushing one.
func TestCheck_examples(t *testing.T) {
	files, err := filepath.Glob(hosttest.RepoPath("examples", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples/*.json found (%v)", err)
	}
	code, stdout, stderr := runCmd(t, append([]string{"check", "--wasm", wasmFile(t)}, files...)...)
	if code != 0 || strings.Count(stdout, ": OK: ") != len(files) {
		t.Fatalf("exit status %d; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// What each configuration will do, beyond its rules.
	for file, want := range map[string]string{
		"header-control.json": "OK: 0 rules, header control on (x-nedry-secret required, max delay 5s)\n",
		"dry-run.json":        "OK: 2 rules (payments_dry: abort 20%+delay 20%, search_dry: reset 5%), dry run: faults are counted, not injected\n",
	} {
		contains(t, "stdout", stdout, filepath.Join(filepath.Dir(files[0]), file)+": "+want)
	}
}

// ecdsConfig returns the version and plugin configuration an ECDS file
// carries, failing if it does not have the shape Envoy reads. The command
// writes it without Envoy's protos; here it is held to them too.
func ecdsConfig(t *testing.T, path string) (version, cfg string, wasm map[string]any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := envoy.ValidateECDS(b); err != nil {
		t.Fatalf("%s: not what Envoy accepts: %v\n%s", path, err, b)
	}
	var doc struct {
		VersionInfo string `json:"version_info"`
		TypeURL     string `json:"type_url"`
		Resources   []struct {
			Type        string `json:"@type"`
			Name        string `json:"name"`
			TypedConfig struct {
				Type   string         `json:"@type"`
				Config map[string]any `json:"config"`
			} `json:"typed_config"`
		} `json:"resources"`
	}
	js, err := yaml.YAMLToJSON(b)
	if err == nil {
		err = json.Unmarshal(js, &doc)
	}
	if err != nil || len(doc.Resources) != 1 {
		t.Fatalf("%s: %v, %d resources:\n%s", path, err, len(doc.Resources), b)
	}
	r := doc.Resources[0]
	if r.Type != ecdsfile.TypeTypedExtensionConfig || r.Name != "nedry" || r.TypedConfig.Type != ecdsfile.TypeWasm || doc.TypeURL != ecdsfile.TypeTypedExtensionConfig {
		t.Fatalf("%s: unexpected shape:\n%s", path, b)
	}
	c, _ := r.TypedConfig.Config["configuration"].(map[string]any)
	if c["@type"] != "type.googleapis.com/google.protobuf.StringValue" {
		t.Fatalf("%s: configuration is not a StringValue:\n%s", path, b)
	}
	v, _ := c["value"].(string)
	return doc.VersionInfo, v, r.TypedConfig.Config
}

func TestPush(t *testing.T) {
	wasm := wasmFile(t)
	dir := t.TempDir()
	const cfgText = `{"rules": [{"name": "p", "match": {"prefix": "/p"}, "abort": {"percent": 25, "http_status": 503}}]}`
	cfg := writeFile(t, dir, "new.json", cfgText)
	shipped, err := os.ReadFile(hosttest.RepoPath("envoy", "ecds", "nedry-filter.yaml"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("existing file keeps its shape", func(t *testing.T) {
		ecds := writeFile(t, t.TempDir(), "nedry-filter.yaml", string(shipped))
		code, stdout, stderr := runCmd(t, "push", "--wasm", wasm, "--config", cfg, "--ecds", ecds)
		if code != 0 {
			t.Fatalf("exit status %d; stderr:\n%s", code, stderr)
		}
		version, have, w := ecdsConfig(t, ecds)
		if have != cfgText {
			t.Fatalf("pushed configuration:\n%s\nwant:\n%s", have, cfgText)
		}
		if version != pushVersion([]byte(cfgText)) {
			t.Fatalf("version_info %q, want %q", version, pushVersion([]byte(cfgText)))
		}
		if w["failure_policy"] != "FAIL_OPEN" || w["root_id"] != "nedry" {
			t.Fatalf("the shipped filter settings were not kept: %v", w)
		}
		contains(t, "stdout", stdout, cfg+": OK: 1 rule (p: abort 25%)\npushed to "+ecds+" (version_info "+version+")\n")
		if tmp, _ := filepath.Glob(filepath.Join(filepath.Dir(ecds), ".*")); len(tmp) != 0 {
			t.Fatalf("temporary files left behind: %v", tmp)
		}
	})
	t.Run("new file", func(t *testing.T) {
		ecds := filepath.Join(t.TempDir(), "nedry-filter.yaml")
		if code, _, stderr := runCmd(t, "push", "--wasm", wasm, "--config", cfg, "--ecds", ecds); code != 0 {
			t.Fatalf("exit status %d; stderr:\n%s", code, stderr)
		}
		_, have, w := ecdsConfig(t, ecds)
		if have != cfgText {
			t.Fatalf("pushed configuration:\n%s\nwant:\n%s", have, cfgText)
		}
		vm, _ := w["vm_config"].(map[string]any)
		if vm["runtime"] != "envoy.wasm.runtime.v8" || w["failure_policy"] != "FAIL_OPEN" {
			t.Fatalf("vm_config %v, failure_policy %v", vm, w["failure_policy"])
		}
	})
	t.Run("checks and writes one read", func(t *testing.T) {
		// A FIFO gives each open of the config its own content: a valid one
		// first, then a refused one. Pushing must write the bytes it checked.
		ecds := writeFile(t, t.TempDir(), "nedry-filter.yaml", string(shipped))
		fifo := filepath.Join(t.TempDir(), "changing.json")
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Fatal(err)
		}
		done, stop := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			for i, content := range []string{cfgText, `{"rules": [{"name": "p", "abort": {"percent": 101}}]}`} {
				if i > 0 {
					// Until the first reader closed the FIFO, a new writer
					// would add to what it reads: wait for ENXIO, which a
					// non-blocking open for writing gets with no reader.
					for stopped := false; !stopped; {
						select {
						case <-stop:
							stopped = true
							continue
						default:
						}
						f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
						if errors.Is(err, syscall.ENXIO) {
							break
						}
						if err != nil {
							return
						}
						f.Close()
						time.Sleep(time.Millisecond)
					}
				}
				f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
				if err != nil {
					return
				}
				f.WriteString(content)
				f.Close()
			}
		}()
		code, _, stderr := runCmd(t, "push", "--wasm", wasm, "--config", fifo, "--ecds", ecds)
		// Unblock the writer's second open, which a single read never makes.
		close(stop)
		if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			<-done
			r.Close()
		}
		if code != 0 {
			t.Fatalf("exit status %d; stderr:\n%s", code, stderr)
		}
		if _, have, _ := ecdsConfig(t, ecds); have != cfgText {
			t.Fatalf("pushed configuration:\n%s\nwant the checked one:\n%s", have, cfgText)
		}
	})
	t.Run("refused config leaves the file alone", func(t *testing.T) {
		ecds := writeFile(t, t.TempDir(), "nedry-filter.yaml", string(shipped))
		bad := writeFile(t, t.TempDir(), "bad.json", `{"rules": [{"name": "p", "abort": {"percent": 101, "http_status": 503}}]}`)
		code, _, stderr := runCmd(t, "push", "--wasm", wasm, "--config", bad, "--ecds", ecds)
		if code != 1 {
			t.Fatalf("exit status %d, want 1", code)
		}
		contains(t, "stderr", stderr, bad+": invalid configuration: rules[0] (p).abort.percent: must be in [0, 100], got 101")
		contains(t, "stderr", stderr, "not pushed; "+ecds+" unchanged")
		if after, _ := os.ReadFile(ecds); !bytes.Equal(after, shipped) {
			t.Fatalf("the ECDS file changed after a refused push:\n%s", after)
		}
	})
}

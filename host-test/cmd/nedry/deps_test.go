package main

import (
	"os/exec"
	"strings"
	"testing"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// TestRunBuild_deps keeps heavy modules out of what make run compiles on a
// first run (the command with the tag nedry_nopackage): protobuf and
// go-control-plane (package envoy validates against them in its tests; the
// command writes ECDS files as plain YAML) and go-containerregistry (only
// nedry package needs it). Measured from empty caches: 134 s of CPU with
// them, 85 s without.
func TestRunBuild_deps(t *testing.T) {
	out, err := exec.Command("go", "list", "-tags", "nedry_nopackage", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, heavy := range []string{
		"google.golang.org/protobuf/",
		"github.com/envoyproxy/go-control-plane/",
		"github.com/google/go-containerregistry/",
		"github.com/nedry-chaos/nedry/envoy\n",
	} {
		if strings.Contains(string(out)+"\n", heavy) {
			t.Errorf("make run's nedry imports %s; keep it out of the first build", strings.TrimSpace(heavy))
		}
	}
}

// TestMakeRun_buildsAndExecs pins make run to the light build (no nedry
// package, no cgo, no debug information), to building the filter and the
// command side by side (make -j2: on a first run the two builds keep both
// cores busy), to exec, so that a SIGTERM to make's PID (make passes it to
// its child) reaches nedry instead of a go run that would leave it running,
// and to the configuration it runs: the quickstart, or CONFIG. make -n
// prints the commands without running them.
func TestMakeRun_buildsAndExecs(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make in PATH")
	}
	tests := []struct{ name, config string }{
		{"quickstart", ""},
		{"CONFIG", "examples/duplicate-payments.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"-n", "-C", hosttest.RepoPath(), "run"}
			want := "examples/quickstart.json"
			if tc.config != "" {
				args = append(args, "CONFIG="+tc.config)
				want = tc.config
			}
			out, err := exec.Command("make", args...).CombinedOutput()
			if err != nil {
				t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			for _, w := range []string{
				"CGO_ENABLED=0 go build -tags nedry_nopackage ",
				"-o build/nedry ./host-test/cmd/nedry\n",
				"-j2 build command\n",
				"-gcflags=all=-dwarf=false -ldflags='-s -w'",
				"exec build/nedry run --demo --config " + want + " --wasm build/nedry.wasm",
				"make run [1/2] build",
			} {
				contains(t, "make -n run", string(out), w)
			}
			if strings.Contains(string(out), "go run") {
				t.Errorf("make run uses go run, which does not pass SIGTERM on to nedry:\n%s", out)
			}
		})
	}
}

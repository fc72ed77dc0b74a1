package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"

	"github.com/nedry-chaos/nedry/envoy/ecdsfile"
)

// pushVersion is the version_info of a push: derived from the configuration,
// so the same configuration always carries the same version and a new one a
// new version in Envoy's logs and config dump.
func pushVersion(cfg []byte) string {
	sum := sha256.Sum256(cfg)
	return "nedry-" + hex.EncodeToString(sum[:6])
}

// writeECDS puts cfg into the ECDS file at path. An existing file keeps its
// shape (VM settings, code path, failure policy) and only the plugin
// configuration and version change, through package ecdsfile, which
// rewrites it as plain YAML (package envoy's tests hold its output to Envoy's
// protos; importing the protos here would cost the first build of nedry
// seconds). A missing file is created with the shape
// envoy/ecds/nedry-filter.yaml ships.
func writeECDS(path string, cfg []byte, wasmPath string) error {
	version := pushVersion(cfg)
	_, err := os.Stat(path)
	if err == nil {
		return ecdsfile.Write(path, string(cfg), version)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tmpl, err := yaml.Marshal(defaultECDS(wasmPath))
	if err != nil {
		return err
	}
	out, err := ecdsfile.Render(tmpl, string(cfg), version)
	if err != nil {
		return err
	}
	return writeAtomic(path, out)
}

// defaultECDS is the DiscoveryResponse nedry push writes when there is no
// ECDS file yet, the same shape as envoy/ecds/nedry-filter.yaml: one
// TypedExtensionConfig named nedry holding the Wasm filter, failing open so
// a broken chaos filter is skipped rather than failing traffic.
func defaultECDS(wasmPath string) map[string]any {
	return map[string]any{
		"version_info": "0",
		"type_url":     ecdsfile.TypeTypedExtensionConfig,
		"resources": []any{map[string]any{
			"@type": ecdsfile.TypeTypedExtensionConfig,
			"name":  ecdsfile.ResourceName,
			"typed_config": map[string]any{
				"@type": ecdsfile.TypeWasm,
				"config": map[string]any{
					"name":           "nedry",
					"root_id":        "nedry",
					"failure_policy": "FAIL_OPEN",
					"vm_config": map[string]any{
						"vm_id":   "nedry",
						"runtime": "envoy.wasm.runtime.v8",
						"code":    map[string]any{"local": map[string]any{"filename": filepath.ToSlash(wasmPath)}},
					},
				},
			},
		}},
	}
}

// writeAtomic replaces path with data so a watcher never sees a partial
// file (temporary file in the same directory, synced, renamed over path).
func writeAtomic(path string, data []byte) error {
	return ecdsfile.ReplaceFile(path, data)
}

func runPush(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("nedry push", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprint(stderr, usage) }
	cfgPath := fset.String("config", "", "plugin configuration file (JSON)")
	ecdsPath := fset.String("ecds", "", "ECDS file a running Envoy watches")
	wasmPath := fset.String("wasm", defaultWasm, "compiled filter")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *cfgPath == "" || *ecdsPath == "" || fset.NArg() > 0 {
		fmt.Fprintln(stderr, "nedry push: want --config FILE --ecds PATH")
		return 2
	}
	// Read once: the bytes checked are the bytes written, even if the file
	// changes meanwhile.
	cfg, err := readConfig(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", *cfgPath, err)
		fmt.Fprintf(stderr, "nedry push: %s not pushed; %s unchanged\n", *cfgPath, *ecdsPath)
		return 1
	}
	host, err := newChecker(ctx, *wasmPath)
	if err != nil {
		fmt.Fprintf(stderr, "nedry push: %v\n", err)
		return 1
	}
	sum, problems := checkConfig(host, cfg)
	host.Close(context.Background())
	if problems != nil {
		for _, p := range problems {
			fmt.Fprintf(stderr, "%s: %s\n", *cfgPath, p)
		}
		fmt.Fprintf(stderr, "nedry push: %s not pushed; %s unchanged\n", *cfgPath, *ecdsPath)
		return 1
	}
	if err := writeECDS(*ecdsPath, cfg, *wasmPath); err != nil {
		fmt.Fprintf(stderr, "nedry push: %s: %v\n", *ecdsPath, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: OK: %s\n", *cfgPath, sum)
	fmt.Fprintf(stdout, "pushed to %s (version_info %s)\n", *ecdsPath, pushVersion(cfg))
	return 0
}

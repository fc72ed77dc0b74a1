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

	"github.com/nedry-chaos/nedry/envoy"
)

// Type URLs of the ECDS resource nedry push writes.
const (
	typeTypedExtensionConfig = "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig"
	typeWasm                 = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"
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
// configuration and version change, through package envoy, which owns that
// format and validates the result against Envoy's protos. A missing file is
// created with the shape envoy/ecds/nedry-filter.yaml ships.
func writeECDS(path string, cfg []byte, wasmPath string) error {
	version := pushVersion(cfg)
	_, err := os.Stat(path)
	if err == nil {
		return envoy.WriteECDS(path, string(cfg), version)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tmpl, err := yaml.Marshal(defaultECDS(wasmPath))
	if err != nil {
		return err
	}
	out, err := envoy.RenderECDS(tmpl, string(cfg), version)
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
		"type_url":     typeTypedExtensionConfig,
		"resources": []any{map[string]any{
			"@type": typeTypedExtensionConfig,
			"name":  envoy.ECDSResourceName,
			"typed_config": map[string]any{
				"@type": typeWasm,
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
// file: the data goes to a temporary file in the same directory, is synced,
// then renamed over path (Envoy's file watch reacts to the rename).
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// Sync the directory so the rename itself survives a crash.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
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

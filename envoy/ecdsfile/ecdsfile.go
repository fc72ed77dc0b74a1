// Package ecdsfile rewrites the ECDS resource file a running Envoy watches
// (a DiscoveryResponse holding one TypedExtensionConfig named nedry whose
// typed_config is the Wasm filter): the plugin configuration and the version
// change, everything else is kept.
//
// It works on the file as plain YAML, without Envoy's protos, so that the
// nedry command, which imports it, compiles without protobuf and
// go-control-plane (seconds of a first build). Package envoy validates what
// it renders against the protos, in its tests and in envoy.RenderECDS.
package ecdsfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"sigs.k8s.io/yaml"
)

// ResourceName is the name of the TypedExtensionConfig in the ECDS file; it
// must equal the http filter name in envoy/ecds/envoy.yaml.
const ResourceName = "nedry"

// Type URLs of the ECDS file's messages.
const (
	TypeTypedExtensionConfig = "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig"
	TypeWasm                 = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"
	typeStringValue          = "type.googleapis.com/google.protobuf.StringValue"
)

// header replaces the comments of the file, which a rewrite cannot keep.
const header = `# ECDS resource for envoy/ecds/envoy.yaml, written by nedry push: a
# DiscoveryResponse with one TypedExtensionConfig (nedry) holding the Wasm
# filter. Replace it atomically (temporary file in this directory, then
# rename); Envoy watches the directory for renames.
`

// discoveryFields are DiscoveryResponse's fields (proto and JSON names);
// anything else is a typo.
var discoveryFields = map[string]bool{
	"version_info": true, "versionInfo": true,
	"resources": true,
	"canary":    true,
	"type_url":  true, "typeUrl": true,
	"nonce":         true,
	"control_plane": true, "controlPlane": true,
}

// Render returns a copy of the ECDS file current with the plugin
// configuration replaced by pluginConfig (passed to the filter as a
// google.protobuf.StringValue) and version_info set to version.
//
// It checks the shape nedry push relies on (one TypedExtensionConfig named
// nedry holding a Wasm filter with a config); Envoy's own rules are checked
// by package envoy. Validating pluginConfig is the caller's job (nedry push
// runs it through build/nedry.wasm first).
func Render(current []byte, pluginConfig, version string) ([]byte, error) {
	js, err := yaml.YAMLToJSON(current)
	if err != nil {
		return nil, fmt.Errorf("parse yaml: %w", err)
	}
	var top map[string]any
	if err := json.Unmarshal(js, &top); err != nil {
		return nil, fmt.Errorf("decode discovery response: %w", err)
	}
	var unknown []string
	for k := range top {
		if !discoveryFields[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("%s: unknown field", unknown[0])
	}
	resources, _ := top["resources"].([]any)
	if n := len(resources); n != 1 {
		return nil, fmt.Errorf("resources: want exactly 1 TypedExtensionConfig, got %d", n)
	}
	tec, _ := resources[0].(map[string]any)
	if t := tec["@type"]; t != TypeTypedExtensionConfig {
		return nil, fmt.Errorf("resources[0].@type: must be %s, got %v", TypeTypedExtensionConfig, t)
	}
	if name := tec["name"]; name != ResourceName {
		return nil, fmt.Errorf("resources[0].name: must be %q, got %q", ResourceName, name)
	}
	wasm, _ := field(tec, "typed_config", "typedConfig").(map[string]any)
	if t := wasm["@type"]; t != TypeWasm {
		return nil, fmt.Errorf("resources[0].typed_config: must be a %s, got %v", TypeWasm, t)
	}
	cfg, ok := wasm["config"].(map[string]any)
	if !ok {
		return nil, errors.New("resources[0].typed_config.config: missing")
	}
	cfg["configuration"] = map[string]any{"@type": typeStringValue, "value": pluginConfig}
	delete(top, "versionInfo")
	top["version_info"] = version
	out, err := json.Marshal(top)
	if err != nil {
		return nil, err
	}
	y, err := yaml.JSONToYAML(out)
	if err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	return append([]byte(header), y...), nil
}

// field returns m's value under its proto name or its JSON name.
func field(m map[string]any, protoName, jsonName string) any {
	if v, ok := m[protoName]; ok {
		return v
	}
	return m[jsonName]
}

// Write replaces the ECDS file at path with Render(file, pluginConfig,
// version). An unchanged result leaves the file alone.
func Write(path, pluginConfig, version string) error {
	return Rewrite(path, func(current []byte) ([]byte, error) {
		return Render(current, pluginConfig, version)
	})
}

// Rewrite reads the ECDS file at path, renders its new content with render
// and, when that differs, replaces the file with ReplaceFile. It is the one
// read-render-replace step behind Write and package envoy's WriteECDS.
func Rewrite(path string, render func(current []byte) ([]byte, error)) error {
	current, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read ecds file: %w", err)
	}
	out, err := render(current)
	if err != nil {
		return fmt.Errorf("render ecds file %s: %w", path, err)
	}
	if string(out) == string(current) {
		return nil
	}
	return ReplaceFile(path, out)
}

// ReplaceFile replaces path with data (an ECDS file, or any file a watcher
// must never see partial): the data goes to a temporary file in the same directory (its name
// starts with a dot, so globs and editors skip it), is synced, then renamed
// over path; Envoy's watched_directory fires on that rename. The mode of an
// existing file is kept (0644 for a new one).
func ReplaceFile(path string, data []byte) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write temporary file: %w", err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("chmod temporary file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync temporary file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close temporary file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	// Sync the directory so the rename itself survives a crash.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

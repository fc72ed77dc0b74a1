//go:build !nedry_nopackage

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TestPackage_layout writes each form into an OCI image layout and reads it
// back: one manifest per tag (a second write under the same tag replaces
// the first, another tag is added beside it), the tag in the annotations
// that skopeo and containerd read, and a module Istio's way of unpacking
// finds byte for byte.
func TestPackage_layout(t *testing.T) {
	wasmPath := wasmFile(t)
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"image", "artifact"} {
		t.Run(format, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "oci")
			var digest string
			for i, tag := range []string{"ghcr.io/chaos/nedry:v1", "ghcr.io/chaos/nedry:v1", "ghcr.io/chaos/nedry:v2"} {
				code, stdout, stderr := runPackageCmd(t, "--wasm", wasmPath, "--format", format, "--out", dir, "--tag", tag)
				if code != 0 {
					t.Fatalf("write %d: exit %d, stderr:\n%s", i+1, code, stderr)
				}
				contains(t, "stdout", stdout, "wrote "+dir+": OCI image layout, tag "+tag+"\n")
				digest = printedDigest(t, stdout)
			}
			idx, err := layout.ImageIndexFromPath(dir)
			if err != nil {
				t.Fatal(err)
			}
			im, err := idx.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			var tags []string
			for _, d := range im.Manifests {
				tags = append(tags, d.Annotations[annotationRefName]+"="+d.Annotations[annotationImgName])
				if d.Digest.String() != digest || d.MediaType != types.OCIManifestSchema1 {
					t.Fatalf("index entry %s %s, want %s %s", d.MediaType, d.Digest, types.OCIManifestSchema1, digest)
				}
			}
			if want := "v1=ghcr.io/chaos/nedry:v1 v2=ghcr.io/chaos/nedry:v2"; strings.Join(tags, " ") != want {
				t.Fatalf("index tags %q, want %q", strings.Join(tags, " "), want)
			}
			img, err := idx.Image(im.Manifests[0].Digest)
			if err != nil {
				t.Fatal(err)
			}
			got, err := istioModule(img)
			if err != nil {
				t.Fatalf("Istio's way of unpacking fails: %v", err)
			}
			if !bytes.Equal(got, wasm) {
				t.Fatalf("module in the layout (%s) is not %s (%s)", moduleDigest(got), wasmPath, moduleDigest(wasm))
			}
		})
	}
}

// TestPackage_tarball writes the image as a docker-archive and loads it as
// docker load would: tagged as asked, plugin.wasm in its one layer.
func TestPackage_tarball(t *testing.T) {
	wasmPath := wasmFile(t)
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "dist", "nedry.tar") // dist/ is created
	code, stdout, stderr := runPackageCmd(t, "--wasm", wasmPath, "--out", out, "--tag", "ghcr.io/chaos/nedry:v1")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	contains(t, "stdout", stdout, "wrote "+out+": docker-archive tarball, tag ghcr.io/chaos/nedry:v1\n")
	tag, err := name.NewTag("ghcr.io/chaos/nedry:v1")
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatalf("tarball has no image tagged %s: %v", tag, err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("%d layers (%v), want 1", len(layers), err)
	}
	got, err := pluginFromLayer(layers[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, wasm) {
		t.Fatalf("module in the tarball (%s) is not %s (%s)", moduleDigest(got), wasmPath, moduleDigest(wasm))
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OS+"/"+cfg.Architecture != "wasi/wasm" {
		t.Fatalf("platform %s/%s, want wasi/wasm", cfg.OS, cfg.Architecture)
	}
}

// TestPackage_errors: every bad input says what is wrong and where, and
// leaves nothing behind.
func TestPackage_errors(t *testing.T) {
	wasmPath := wasmFile(t)
	dir := t.TempDir()
	textFile := writeFile(t, dir, "notes.wasm", "not a module")
	// The smallest valid WebAssembly module: a module, but not Nedry's.
	otherWasm := writeFile(t, dir, "empty.wasm", "\x00asm\x01\x00\x00\x00")
	notLayout := filepath.Join(dir, "photos")
	if err := os.Mkdir(notLayout, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, notLayout, "cat.jpg", "meow")
	out := filepath.Join(dir, "out")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"no output", []string{"--wasm", wasmPath}, 2,
			"nedry package: want --out DIR|FILE.tar or --push REF\n"},
		{"stray argument", []string{"--out", out, "extra"}, 2,
			`nedry package: unexpected argument "extra"`},
		{"unknown format", []string{"--out", out, "--format", "docker"}, 2,
			`invalid value "docker" for flag -format: must be image or artifact, got "docker"`},
		{"artifact as tar", []string{"--out", out + ".tar", "--format", "artifact"}, 2,
			"nedry package: --out " + out + ".tar: --format artifact cannot be written as a .tar"},
		{"missing wasm", []string{"--wasm", filepath.Join(dir, "none.wasm"), "--out", out}, 1,
			"nedry package: --wasm " + filepath.Join(dir, "none.wasm") + ": no such file"},
		{"not wasm", []string{"--wasm", textFile, "--out", out}, 1,
			"nedry package: " + textFile + ": not a WebAssembly module (no \\0asm header): not the Nedry filter\n"},
		{"another module", []string{"--wasm", otherWasm, "--out", out}, 1,
			"nedry package: " + otherWasm + ": not the Nedry filter (no Nedry code in this module); build it with make build\n"},
		{"bad push ref", []string{"--wasm", wasmPath, "--push", "Bad Ref!"}, 1,
			`nedry package: --push "Bad Ref!": not an image reference (want [REGISTRY/]REPOSITORY[:TAG]): `},
		{"bad tag", []string{"--wasm", wasmPath, "--out", out, "--tag", "nedry:v1:v2"}, 1,
			`nedry package: --tag "nedry:v1:v2": not an image reference`},
		{"out under a file", []string{"--wasm", wasmPath, "--out", filepath.Join(textFile, "oci")}, 1,
			"nedry package: --out " + filepath.Join(textFile, "oci") + ": "},
		{"tar under a file", []string{"--wasm", wasmPath, "--out", filepath.Join(textFile, "n.tar")}, 1,
			"nedry package: --out " + filepath.Join(textFile, "n.tar") + ": mkdir " + textFile + ": not a directory\n"},
		{"out is another directory", []string{"--wasm", wasmPath, "--out", notLayout}, 1,
			"nedry package: --out " + notLayout + ": exists and is not an OCI image layout (no index.json); give a new or empty directory\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runPackageCmd(t, tc.args...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout, stderr)
			}
			contains(t, "stderr", stderr, tc.want)
			if _, err := os.Stat(out); err == nil {
				t.Fatalf("%s was written", out)
			}
		})
	}
	if entries, _ := os.ReadDir(notLayout); len(entries) != 1 {
		t.Fatalf("%s changed: %d entries", notLayout, len(entries))
	}
}

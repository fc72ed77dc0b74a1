//go:build !nedry_nopackage

package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// runPackageCmd runs nedry package in process and returns its exit code,
// stdout and stderr.
func runPackageCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"package"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// isolateCredentials points every place authn.DefaultKeychain reads
// (the Docker config, podman's auth.json) into a fresh directory, so a test
// never sees the machine's logins. It returns the DOCKER_CONFIG directory.
func isolateCredentials(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	dockerDir := filepath.Join(home, "docker")
	if err := os.Mkdir(dockerDir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("DOCKER_CONFIG", dockerDir)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(home, "run"))
	t.Setenv("REGISTRY_AUTH_FILE", filepath.Join(home, "none.json"))
	return dockerDir
}

// startRegistry serves go-containerregistry's in-process registry on
// loopback behind handler wrap (nil: none) and returns its host:port.
func startRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

var manifestLine = regexp.MustCompile(`(?m)^image: .*, manifest (sha256:[0-9a-f]{64})$`)

// printedDigest is the manifest digest nedry package printed.
func printedDigest(t *testing.T, stdout string) string {
	t.Helper()
	m := manifestLine.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no manifest digest line in output:\n%s", stdout)
	}
	return m[1]
}

// istioModule unpacks the module from img the way Istio's image fetcher
// (istio/istio pkg/wasm/imagefetcher.go) does: a Docker manifest must carry
// plugin.wasm in a Docker tar+gzip last layer; an OCI manifest is read as
// the compat form (last layer OCI tar+gzip holding plugin.wasm), and failing
// that as the Wasm artifact (exactly two layers, one of them the raw module
// as application/vnd.module.wasm.content.layer.v1+wasm).
func istioModule(img v1.Image) ([]byte, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	if len(layers) == 0 {
		return nil, errors.New("no layers")
	}
	last := layers[len(layers)-1]
	mt, err := last.MediaType()
	if err != nil {
		return nil, err
	}
	if m.MediaType == types.DockerManifestSchema2 {
		if mt != types.DockerLayer {
			return nil, fmt.Errorf("docker manifest: last layer %s", mt)
		}
		return pluginFromLayer(last)
	}
	if mt == types.OCILayer {
		return pluginFromLayer(last)
	}
	if len(layers) != 2 {
		return nil, fmt.Errorf("artifact: %d layers, want 2", len(layers))
	}
	for _, l := range layers {
		if mt, _ := l.MediaType(); mt == wasmContentMediaType {
			rc, err := l.Compressed() // Istio reads the blob as it is
			if err != nil {
				return nil, err
			}
			defer rc.Close()
			return io.ReadAll(rc)
		}
	}
	return nil, fmt.Errorf("artifact: no %s layer", wasmContentMediaType)
}

// pluginFromLayer is plugin.wasm from a tar+gzip layer's blob.
func pluginFromLayer(l v1.Layer) ([]byte, error) {
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	gz, err := gzip.NewReader(rc)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("plugin.wasm not found: %w", err)
		}
		if filepath.Base(h.Name) == pluginFileName {
			return io.ReadAll(tr)
		}
	}
}

// TestPackage_pushPullAsIstio pushes each form to an in-process registry on
// loopback and pulls it back as Istio does: the manifest is OCI, the layers
// have the media types Istio's fetcher looks for, the module is the very
// build/nedry.wasm, and the digest Istio pins (WasmPlugin sha256, or
// oci://REPO@sha256:...) is the one nedry package printed.
func TestPackage_pushPullAsIstio(t *testing.T) {
	wasmPath := wasmFile(t)
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	isolateCredentials(t)
	host := startRegistry(t, nil)
	tests := []struct {
		format     string
		wantLayers []types.MediaType
	}{
		{"image", []types.MediaType{types.OCILayer}},
		{"artifact", []types.MediaType{wasmConfigMediaType, wasmContentMediaType}},
	}
	for _, tc := range tests {
		t.Run(tc.format, func(t *testing.T) {
			ref := host + "/chaos/nedry:" + tc.format
			code, stdout, stderr := runPackageCmd(t, "--wasm", wasmPath, "--format", tc.format, "--push", ref)
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			digest := printedDigest(t, stdout)
			hex := strings.TrimPrefix(digest, "sha256:")
			contains(t, "stdout", stdout, "pushed "+ref+"\n")
			contains(t, "stdout", stdout, "WasmPlugin: url: oci://"+ref+", sha256: "+hex)
			contains(t, "stdout", stdout, moduleDigest(wasm))

			desc, err := remote.Get(mustRef(t, ref), remote.WithAuth(authn.Anonymous))
			if err != nil {
				t.Fatal(err)
			}
			if desc.MediaType != types.OCIManifestSchema1 {
				t.Fatalf("manifest media type %s, want %s", desc.MediaType, types.OCIManifestSchema1)
			}
			if desc.Digest.String() != digest {
				t.Fatalf("registry digest %s, printed %s", desc.Digest, digest)
			}
			img, err := desc.Image()
			if err != nil {
				t.Fatal(err)
			}
			if d, _ := img.Digest(); d.Hex != hex {
				t.Fatalf("image digest %s, printed %s", d.Hex, hex)
			}
			m, err := img.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			var have []types.MediaType
			for _, l := range m.Layers {
				have = append(have, l.MediaType)
			}
			if fmt.Sprint(have) != fmt.Sprint(tc.wantLayers) {
				t.Fatalf("layer media types %v, want %v", have, tc.wantLayers)
			}
			got, err := istioModule(img)
			if err != nil {
				t.Fatalf("Istio's way of unpacking fails: %v", err)
			}
			if !bytes.Equal(got, wasm) {
				t.Fatalf("pulled module (%d bytes, %s) is not %s (%d bytes, %s)",
					len(got), moduleDigest(got), wasmPath, len(wasm), moduleDigest(wasm))
			}
			// The same module packaged again gives the same digest: the
			// image holds no timestamps.
			code, stdout, stderr = runPackageCmd(t, "--wasm", wasmPath, "--format", tc.format, "--push", ref)
			if code != 0 || printedDigest(t, stdout) != digest {
				t.Fatalf("second push: exit %d, digest %s, want %s\n%s", code, printedDigest(t, stdout), digest, stderr)
			}
		})
	}
}

// TestPackage_pushCredentials checks that --push logs in with the user's
// Docker config, as docker login leaves it, and that a registry refusing an
// anonymous push gives an error that says so.
func TestPackage_pushCredentials(t *testing.T) {
	wasmPath := wasmFile(t)
	const user, pass = "chaos", "s3cret"
	host := startRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	tests := []struct {
		name      string
		auth      string // the auths entry of config.json, "" for no file
		wantCode  int
		wantError string
	}{
		{"docker config login", user + ":" + pass, 0, ""},
		{"no credentials", "", 1, "nedry package: push " + host + "/chaos/nedry:v1: "},
		{"wrong password", user + ":nope", 1, "401 Unauthorized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := isolateCredentials(t)
			if tc.auth != "" {
				cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, base64.StdEncoding.EncodeToString([]byte(tc.auth)))
				writeFile(t, dir, "config.json", cfg)
			}
			code, _, stderr := runPackageCmd(t, "--wasm", wasmPath, "--push", host+"/chaos/nedry:v1")
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.wantCode, stderr)
			}
			if tc.wantError != "" {
				contains(t, "stderr", stderr, tc.wantError)
			}
		})
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	ref, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

//go:build !nedry_nopackage

package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The two forms of a Wasm image that Istio's image fetcher
// (istio/istio pkg/wasm/imagefetcher.go) unpacks, after the Wasm Image
// Specification (solo-io/wasm spec/spec-compat.md and spec/spec.md):
//
//   - image ("compat"): a container image whose last layer is a tar+gzip
//     holding plugin.wasm. For an OCI manifest Istio tries this form first,
//     and docker build makes it, so it is the default.
//   - artifact ("oci"): exactly two layers, the runtime configuration
//     (wasmConfigMediaType) and the raw module (wasmContentMediaType).
//     Istio reads the module layer as it is and ignores the manifest's own
//     config, which stays the standard OCI image config.
const (
	wasmContentMediaType types.MediaType = "application/vnd.module.wasm.content.layer.v1+wasm"
	wasmConfigMediaType  types.MediaType = "application/vnd.module.wasm.config.v1+json"

	pluginFileName  = "plugin.wasm"         // the name Istio looks for in the compat layer
	runtimeFileName = "runtime-config.json" // the spec's name for the configuration layer

	annotationVariant = "module.wasm.image/variant"         // spec-compat.md: "compat" on OCI compat images
	annotationTitle   = "org.opencontainers.image.title"    // a layer's file name
	annotationRefName = "org.opencontainers.image.ref.name" // the tag in an OCI layout (skopeo's oci:DIR:TAG)
	annotationImgName = "io.containerd.image.name"          // the full name, for ctr and nerdctl import
)

// runtimeConfig is the artifact's configuration layer: the spec's Envoy
// runtime, the proxy-wasm ABI the filter exports (proxy_abi_version_0_2_1),
// and the root id the shipped Envoy and Istio files give it.
const runtimeConfig = `{"type":"envoy_proxy","abiVersions":["proxy_abi_version_0_2_1"],"config":{"root_ids":["nedry"]}}`

// imageFormat is the form nedry package builds (--format).
type imageFormat int

const (
	formatImage imageFormat = iota
	formatArtifact
)

func parseImageFormat(s string) (imageFormat, error) {
	switch s {
	case "image":
		return formatImage, nil
	case "artifact":
		return formatArtifact, nil
	}
	return formatImage, fmt.Errorf("must be image or artifact, got %q", s)
}

func (f imageFormat) String() string {
	if f == formatArtifact {
		return "artifact"
	}
	return "image"
}

// describe is the form's one-line description in nedry package's output.
func (f imageFormat) describe() string {
	if f == formatArtifact {
		return "Wasm OCI artifact (" + string(wasmContentMediaType) + " layer)"
	}
	return "OCI image (" + pluginFileName + " in one " + string(types.OCILayer) + " layer)"
}

// moduleDigest is the module's own sha256, as Envoy's remote code source
// and Istio's http:// URLs pin it.
func moduleDigest(wasm []byte) string {
	sum := sha256.Sum256(wasm)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// buildImage packages wasm in form f. The result depends on the module's
// bytes only (no timestamps), so the same build gives the same digest.
func buildImage(wasm []byte, f imageFormat) (v1.Image, error) {
	if f == formatArtifact {
		return artifactImage(wasm)
	}
	return compatImage(wasm)
}

func compatImage(wasm []byte) (v1.Image, error) {
	layerTar, err := pluginTar(wasm)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer:   layer,
		History: v1.History{CreatedBy: "nedry package"},
	})
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	// Docker's platform for Wasm images (docker run --platform wasi/wasm).
	cfg.OS, cfg.Architecture = "wasi", "wasm"
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return nil, err
	}
	return ociManifest(img, map[string]string{annotationVariant: "compat"}), nil
}

func artifactImage(wasm []byte) (v1.Image, error) {
	img, err := mutate.Append(empty.Image,
		mutate.Addendum{
			Layer:       static.NewLayer([]byte(runtimeConfig), wasmConfigMediaType),
			Annotations: map[string]string{annotationTitle: runtimeFileName},
		},
		mutate.Addendum{
			Layer:       static.NewLayer(wasm, wasmContentMediaType),
			Annotations: map[string]string{annotationTitle: pluginFileName},
		})
	if err != nil {
		return nil, err
	}
	return ociManifest(img, nil), nil
}

// ociManifest gives img OCI media types (empty.Image starts with Docker's)
// and the manifest annotations anns.
func ociManifest(img v1.Image, anns map[string]string) v1.Image {
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	if len(anns) > 0 {
		// Annotations returns a v1.Image when handed one.
		img = mutate.Annotations(img, anns).(v1.Image)
	}
	return img
}

// pluginTar is the compat layer's content: one regular file, plugin.wasm,
// at the root, with a fixed time so the digest depends on the module only.
func pluginTar(wasm []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     pluginFileName,
		Mode:     0o644,
		Size:     int64(len(wasm)),
		Format:   tar.FormatUSTAR,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(wasm); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeTarball writes img as a docker-archive tarball (the docker save
// format) named tag, replacing out atomically so a failed write leaves no
// truncated file. The parent directory is created if needed.
func writeTarball(out string, tag name.Reference, img v1.Image) error {
	var buf bytes.Buffer
	if err := tarball.Write(tag, img, &buf); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return writeAtomic(out, buf.Bytes())
}

// writeLayout writes img into the OCI image layout out under tag. A new or
// empty directory becomes a layout holding this image; an existing layout
// gets it in place of the image that had the same tag (other tags stay, and
// so do the replaced image's blobs). Anything else is refused, so a
// mistyped --out never writes into an unrelated directory.
func writeLayout(out string, tag name.Reference, img v1.Image) error {
	anns := map[string]string{
		annotationRefName: tag.Identifier(),
		annotationImgName: tag.Name(),
	}
	p, err := layout.FromPath(out)
	if err == nil {
		return p.ReplaceImage(img, match.Annotation(annotationRefName, tag.Identifier()), layout.WithAnnotations(anns))
	}
	entries, err := os.ReadDir(out)
	switch {
	case err == nil && len(entries) > 0:
		return fmt.Errorf("exists and is not an OCI image layout (no index.json); give a new or empty directory")
	case err != nil && !os.IsNotExist(err):
		return err
	}
	if p, err = layout.Write(out, empty.Index); err != nil {
		return err
	}
	return p.AppendImage(img, layout.WithAnnotations(anns))
}

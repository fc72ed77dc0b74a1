//go:build !nedry_nopackage

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

const packageUsage = `nedry package (--out DIR|FILE.tar | --push REF) [--tag REF] [--format image|artifact] [--wasm FILE]
  Packages the compiled filter as an OCI image that Istio's WasmPlugin pulls
  (url: oci://REF), without Docker.

    --out DIR          write an OCI image layout: a new or empty DIR becomes one;
                       in an existing layout the image replaces the one with the
                       same tag
    --out FILE.tar     write a docker-archive tarball (docker load, crane push,
                       skopeo copy docker-archive:FILE.tar)
    --push REF         push to a registry, e.g. ghcr.io/YOUR_ORG/nedry:v0.1.0,
                       with the credentials docker login stored (the Docker
                       config file, DOCKER_CONFIG, or podman's auth.json); a
                       registry on localhost or a loopback or private address
                       is tried over HTTPS, then plain HTTP
    --tag REF          the image name written with --out (default nedry:latest)
    --format F         image (default): an OCI image whose one tar+gzip layer
                       holds plugin.wasm, the form Istio tries first and the one
                       docker build -f examples/Dockerfile makes;
                       artifact: the Wasm OCI artifact, a runtime-config.json
                       layer (application/vnd.module.wasm.config.v1+json) and
                       the module itself as a layer
                       (application/vnd.module.wasm.content.layer.v1+wasm), for
                       registries that take custom media types; not as a .tar
    --wasm FILE        the compiled filter (default build/nedry.wasm); a module
                       that is not the Nedry filter is refused

  Prints the module's sha256, the image's manifest digest (what a WasmPlugin
  pins: sha256: HEX, or url: oci://REPOSITORY@sha256:HEX) and where it went.
`

// packageOptions are nedry package's parsed flags.
type packageOptions struct {
	wasm, out, push, tag string
	format               imageFormat
}

func parsePackageFlags(args []string, stderr io.Writer) (packageOptions, error) {
	o := packageOptions{format: formatImage}
	fs := flag.NewFlagSet("nedry package", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, packageUsage) }
	fs.StringVar(&o.wasm, "wasm", defaultWasm, "compiled filter")
	fs.StringVar(&o.out, "out", "", "OCI layout directory or .tar file to write")
	fs.StringVar(&o.push, "push", "", "registry reference to push to")
	fs.StringVar(&o.tag, "tag", "nedry:latest", "image name recorded in --out")
	fs.Func("format", "image or artifact (default image)", func(s string) error {
		f, err := parseImageFormat(s)
		o.format = f
		return err
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, errReported // the flag package printed it, with the usage
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.out == "" && o.push == "":
		return o, errors.New("want --out DIR|FILE.tar or --push REF")
	case o.format == formatArtifact && isTarball(o.out):
		return o, fmt.Errorf("--out %s: --format artifact cannot be written as a .tar "+
			"(a docker-archive keeps no layer media types); write a directory or --push", o.out)
	}
	return o, nil
}

// errReported is a flag error the flag package has already printed.
var errReported = errors.New("flag error reported")

func runPackage(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parsePackageFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, errReported) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "nedry package: %v\n", err)
		return 2
	}
	if err := packageImage(ctx, o, stdout); err != nil {
		fmt.Fprintf(stderr, "nedry package: %v\n", err)
		return 1
	}
	return 0
}

// packageImage builds the image and writes or pushes it. References are
// parsed before anything is written, so a bad --tag or --push leaves no
// half-done output behind.
func packageImage(ctx context.Context, o packageOptions, stdout io.Writer) error {
	var tag, dst name.Reference
	var err error
	if o.out != "" {
		if tag, err = parseRef("--tag", o.tag); err != nil {
			return err
		}
	}
	if o.push != "" {
		if dst, err = parseRef("--push", o.push); err != nil {
			return err
		}
	}
	wasm, err := loadWasm(o.wasm)
	if err != nil {
		return err
	}
	if err := checkNedryModule(o.wasm, wasm); err != nil {
		return err
	}
	img, err := buildImage(wasm, o.format)
	if err != nil {
		return fmt.Errorf("build image: %w", err)
	}
	digest, err := img.Digest()
	if err != nil {
		return fmt.Errorf("build image: %w", err)
	}
	fmt.Fprintf(stdout, "%s: %d bytes, %s\n", o.wasm, len(wasm), moduleDigest(wasm))
	fmt.Fprintf(stdout, "image: %s, manifest %s\n", o.format.describe(), digest)
	if o.out != "" {
		what, err := writeImage(o.out, tag, img)
		if err != nil {
			return fmt.Errorf("--out %s: %w", o.out, err)
		}
		fmt.Fprintf(stdout, "wrote %s: %s, tag %s\n", o.out, what, tag)
	}
	if dst != nil {
		if err := pushImage(ctx, dst, img); err != nil {
			return fmt.Errorf("push %s: %w", dst, err)
		}
		fmt.Fprintf(stdout, "pushed %s\n", dst)
		fmt.Fprintf(stdout, "WasmPlugin: url: oci://%s, sha256: %s (or url: oci://%s@%s)\n",
			o.push, digest.Hex, dst.Context(), digest)
	}
	return nil
}

// parseRef reads an image reference as the registry clients do (a missing
// registry is Docker Hub's, a missing tag latest), naming the flag and the
// form expected when it is not one.
func parseRef(flagName, s string) (name.Reference, error) {
	ref, err := name.ParseReference(s)
	if err != nil {
		return nil, fmt.Errorf("%s %q: not an image reference (want [REGISTRY/]REPOSITORY[:TAG]): %v", flagName, s, err)
	}
	return ref, nil
}

// pushImage sends img to ref with the user's registry credentials, found as
// docker, crane and Istio's own fetcher find them (authn.DefaultKeychain).
func pushImage(ctx context.Context, ref name.Reference, img v1.Image) error {
	return remote.Write(ref, img,
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(authn.DefaultKeychain))
}

// isTarball tells a --out file from a --out directory: by its extension,
// which is how the user says which one they want.
func isTarball(out string) bool {
	return strings.HasSuffix(strings.ToLower(out), ".tar")
}

// writeImage writes img to out as a tarball or an OCI layout and says which.
func writeImage(out string, tag name.Reference, img v1.Image) (string, error) {
	if isTarball(out) {
		return "docker-archive tarball", writeTarball(out, tag, img)
	}
	return "OCI image layout", writeLayout(out, tag, img)
}

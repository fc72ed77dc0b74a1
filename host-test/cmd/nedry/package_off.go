//go:build nedry_nopackage

package main

import (
	"context"
	"fmt"
	"io"
)

// runPackage of a nedry built with the tag nedry_nopackage, as make run
// builds it: packaging pulls in go-containerregistry, which costs a first
// build about 14 s of CPU and a 44 MB download that the local proxy never
// needs.
func runPackage(_ context.Context, _ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "nedry package: this nedry was built without packaging (-tags nedry_nopackage, as make run builds it); run make package, or go run ./host-test/cmd/nedry package")
	return 2
}

package main

import (
	"bytes"
	"errors"
	"fmt"
)

// errNotNedry is returned for a module that is not the Nedry filter.
var errNotNedry = errors.New("not the Nedry filter")

// nedryMarker is the import path of the filter's plugin package. Go keeps
// every function's full name in the module (the runtime needs them for
// stack traces, and -ldflags=-s -w does not remove them), so a build of the
// filter holds it and any other module, such as the test guests, does not.
// One scan of a few MB; no VM is started.
const nedryMarker = "github.com/nedry-chaos/nedry/filter/internal/plugin."

// checkNedryModule refuses to package something Istio would load as Nedry
// but is not: a file that is not WebAssembly, or another Wasm module.
func checkNedryModule(path string, wasm []byte) error {
	if !bytes.HasPrefix(wasm, []byte("\x00asm")) {
		return fmt.Errorf("%s: not a WebAssembly module (no \\0asm header): %w", path, errNotNedry)
	}
	if !bytes.Contains(wasm, []byte(nedryMarker)) {
		return fmt.Errorf("%s: %w (no Nedry code in this module); build it with make build", path, errNotNedry)
	}
	return nil
}

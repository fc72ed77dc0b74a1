// Package hosttesting holds test helpers shared by the packages that check
// their configurations through the compiled filter (envoy, examples). It
// imports testing, so only tests import it.
package hosttesting

import (
	"context"
	"testing"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// Filter loads build/nedry.wasm into a host with default options, closed
// when the test ends. A missing module fails the test with the make target
// that builds it; it never skips.
func Filter(t testing.TB) *hosttest.Host {
	t.Helper()
	wasm, err := hosttest.LoadFile(hosttest.RepoPath("build", "nedry.wasm"))
	if err != nil {
		t.Fatalf("load filter: %v (run make build)", err)
	}
	ctx := context.Background()
	h, err := hosttest.New(ctx, wasm, hosttest.Options{})
	if err != nil {
		t.Fatalf("start filter: %v", err)
	}
	t.Cleanup(func() { h.Close(ctx) })
	return h
}

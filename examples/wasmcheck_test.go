package examples

import (
	"context"
	"sort"
	"testing"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// newChecker loads build/nedry.wasm into the host harness. A missing module
// fails the test with the make target that builds it; it never skips.
func newChecker(t *testing.T) *hosttest.Host {
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

// TestExamples_checkedByWasm runs every examples/*.json and every Istio
// pluginConfig (as the JSON Istio hands the filter) through the filter
// itself: what nedry check does, and what Envoy does on load.
func TestExamples_checkedByWasm(t *testing.T) {
	h := newChecker(t)
	// The checker must be able to say no, or this test proves nothing.
	if err := h.Check([]byte(`{"rules":[{"name":"x","abort":{"percent":1,"http_status":700}}]}`)); err == nil {
		t.Fatalf("a config with http_status 700 passed the check")
	}
	configs := map[string]string{}
	for name, data := range exampleConfigs(t) {
		configs[name] = string(data)
	}
	for path, js := range istioPluginConfigs(t) {
		configs[path+" pluginConfig"] = js
	}
	names := make([]string, 0, len(configs))
	for n := range configs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			if err := h.Check([]byte(configs[name])); err != nil {
				t.Errorf("refused by build/nedry.wasm:\n%v", err)
			}
		})
	}
}

package examples

import (
	"sort"
	"testing"

	"github.com/nedry-chaos/nedry/host-test/hosttesting"
)

// TestExamples_checkedByWasm runs every examples/*.json and every Istio
// pluginConfig (as the JSON Istio hands the filter) through the filter
// itself: what nedry check does, and what Envoy does on load.
func TestExamples_checkedByWasm(t *testing.T) {
	h := hosttesting.Filter(t)
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

package envoy

import (
	"testing"

	"github.com/nedry-chaos/nedry/host-test/hosttesting"
)

// TestEnvoyConfigs_pluginConfigCheckedByWasm runs every plugin configuration
// embedded in envoy/ through the filter itself, as Envoy would on load.
func TestEnvoyConfigs_pluginConfigCheckedByWasm(t *testing.T) {
	h := hosttesting.Filter(t)
	// The checker must be able to say no, or this test proves nothing.
	if err := h.Check([]byte(`{"rules":[{"name":"x","abrot":{"percent":1}}]}`)); err == nil {
		t.Fatalf("a config with an unknown field passed the check")
	}
	for _, rel := range []string{envoyYAML, ecdsResource} {
		t.Run(rel, func(t *testing.T) {
			_, jsons := pluginConfigs(t, rel)
			if len(jsons) == 0 {
				t.Fatalf("no plugin configuration found")
			}
			for _, js := range jsons {
				if err := h.Check([]byte(js)); err != nil {
					t.Errorf("refused by build/nedry.wasm:\n%v", err)
				}
			}
		})
	}
}

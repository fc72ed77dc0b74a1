package envoy

import (
	"strings"
	"testing"

	streamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
)

// The shipped proxies log Nedry's filter state for every stream, under the
// name Envoy gives a proxy_set_property("nedry") ("wasm." + the path).
func TestAccessLog_filterState(t *testing.T) {
	for _, f := range []string{envoyYAML, ecdsBootstrap} {
		logs := hcmOf(t, loadBootstrap(t, f)).GetAccessLog()
		if len(logs) != 1 {
			t.Fatalf("%s: %d access logs, want 1", f, len(logs))
		}
		var out streamv3.StdoutAccessLog
		if err := logs[0].GetTypedConfig().UnmarshalTo(&out); err != nil {
			t.Fatalf("%s: access log: %v", f, err)
		}
		format := out.GetLogFormat().GetTextFormatSource().GetInlineString()
		if !strings.Contains(format, "%FILTER_STATE(wasm.nedry:PLAIN)%") {
			t.Errorf("%s: access log format %q does not show wasm.nedry", f, format)
		}
	}
}

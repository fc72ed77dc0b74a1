package hosttest_test

import (
	"strings"
	"testing"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// BenchmarkRegexWorst is the worst regex configuration the validator
// accepts: the whole regex budget (200 instructions) spent on two
// expressions of the largest program (100 instructions) whose search keeps
// every thread alive and never matches, all unindexed, so every request
// runs both. path_1KiB is the longest input a regex is run on
// (match.MaxRegexInput); path_60KiB is about the longest :path Envoy
// accepts with its default max_request_headers_kb of 60, on which the
// regexes do not run. ns/req is guest time per request, through the
// harness.
func BenchmarkRegexWorst(b *testing.B) {
	cfg := `{"rules": [` + strings.ReplaceAll(regexRuleList(2), `"reset": {"percent": 1}`, `"abort": {"percent": 100}`) + `]}`
	for _, tc := range []struct {
		name string
		n    int
	}{{"path_1KiB", 1024}, {"path_60KiB", 60<<10 - 512}} {
		b.Run(tc.name, func(b *testing.B) {
			req := benchRequest("/" + strings.Repeat("a", tc.n-1))
			benchPair(b, cfg, req, func(r hosttest.Result) string {
				if r.Upstream == nil || r.LocalReply != nil {
					return "the worst regex config matched a path it cannot match"
				}
				return ""
			})
		})
	}
}

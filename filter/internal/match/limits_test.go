package match

import (
	"regexp"
	"strings"
	"testing"
)

// A regex never runs on an input longer than MaxRegexInput, and such an
// input can only keep a rule from matching: an inverted regex does not hold
// either, so a long path or header never injects a fault nobody configured.
func TestConditions_regexInputBound(t *testing.T) {
	any := regexp.MustCompile(`.`)
	atLimit := "/" + strings.Repeat("a", MaxRegexInput-1)
	over := atLimit + "a"
	tests := []struct {
		name string
		cond Conditions
		path string
		ua   string
		want bool
	}{
		{"path at the bound", Conditions{Regex: any}, atLimit, "", true},
		{"path over the bound", Conditions{Regex: any}, over, "", false},
		{"path over the bound, query not counted", Conditions{Regex: any}, atLimit + "?" + strings.Repeat("q", 4096), "", true},
		{"header at the bound", Conditions{Headers: []HeaderMatcher{{Name: "user-agent", Kind: HeaderRegex, Regex: any}}}, "/", atLimit, true},
		{"header over the bound", Conditions{Headers: []HeaderMatcher{{Name: "user-agent", Kind: HeaderRegex, Regex: any}}}, "/", over, false},
		{"inverted header over the bound", Conditions{Headers: []HeaderMatcher{{Name: "user-agent", Kind: HeaderRegex, Regex: regexp.MustCompile(`^curl/`), Invert: true}}}, "/", over, false},
		{"inverted header at the bound", Conditions{Headers: []HeaderMatcher{{Name: "user-agent", Kind: HeaderRegex, Regex: regexp.MustCompile(`^curl/`), Invert: true}}}, "/", atLimit, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &req{path: tc.path, headers: map[string]string{"user-agent": tc.ua}}
			if have := tc.cond.Matches(r); have != tc.want {
				t.Fatalf("Matches: have %v, want %v", have, tc.want)
			}
			tab := Build([]Conditions{tc.cond})
			if have := tab.Match(r) == 0; have != tc.want {
				t.Fatalf("Table.Match: have %v, want %v", have, tc.want)
			}
		})
	}
}

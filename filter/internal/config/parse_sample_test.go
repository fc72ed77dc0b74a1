package config

import (
	"strings"
	"testing"
)

func TestParse_sampleBy(t *testing.T) {
	tests := []struct {
		name   string
		sample string
		want   Sample // Salt not compared
	}{
		{"header", `{"header": "x-user-id"}`, Sample{Header: "x-user-id"}},
		{"pseudo-header", `{"header": ":authority"}`, Sample{Header: ":authority"}},
		{"cookie", `{"cookie": "Session_ID"}`, Sample{Cookie: "Session_ID"}},
		{"missing random", `{"header": "x-u", "missing": "random"}`, Sample{Header: "x-u"}},
		{"missing skip", `{"cookie": "s", "missing": "skip"}`, Sample{Cookie: "s", Missing: MissingSkip}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(rule(`"sample_by": ` + tc.sample + `, "abort": {"percent": 5}`)))
			if err != nil {
				t.Fatal(err)
			}
			have := c.Rules[0].Sample
			if have == nil {
				t.Fatal("Sample is nil")
			}
			h := *have
			h.Salt, h.DuplicateSalt = [4]uint64{}, 0
			if h != tc.want {
				t.Fatalf("Sample: have %+v, want %+v", h, tc.want)
			}
		})
	}
}

func TestParse_sampleByErrors(t *testing.T) {
	tests := []struct {
		name   string
		sample string
		want   []string
	}{
		{"not an object", `"x-user-id"`, []string{
			`rules[0] (p).sample_by: must be an object, got "x-user-id"`}},
		{"neither", `{}`, []string{
			`rules[0] (p).sample_by: must have exactly one of header or cookie, got {}`}},
		{"only missing", `{"missing": "skip"}`, []string{
			`rules[0] (p).sample_by: must have exactly one of header or cookie, got {"missing":"skip"}`}},
		{"both", `{"header": "x-u", "cookie": "s"}`, []string{
			`rules[0] (p).sample_by: must have exactly one of header or cookie, got {"header":"x-u","cookie":"s"}`}},
		{"header not a string", `{"header": 1}`, []string{
			`rules[0] (p).sample_by.header: must be a string, got 1`}},
		{"header uppercase", `{"header": "X-User"}`, []string{
			`rules[0] (p).sample_by.header: must be lowercase (HTTP/2 header names are), got "X-User"`}},
		{"header empty", `{"header": ""}`, []string{
			`rules[0] (p).sample_by.header: must be a header name, not empty, got ""`}},
		{"cookie empty", `{"cookie": ""}`, []string{
			`rules[0] (p).sample_by.cookie: must be a cookie name, not empty, got ""`}},
		{"cookie separator", `{"cookie": "a=b"}`, []string{
			"rules[0] (p).sample_by.cookie: must be a cookie name token (letters, digits and !#$%&'*+-.^_`|~), got \"a=b\""}},
		{"cookie too long", `{"cookie": "` + strings.Repeat("c", 257) + `"}`, []string{
			`rules[0] (p).sample_by.cookie: must be at most 256 bytes, got "` + strings.Repeat("c", 63) + `...`}},
		{"missing bad", `{"header": "x-u", "missing": "never"}`, []string{
			`rules[0] (p).sample_by.missing: must be "random" or "skip", got "never"`}},
		{"missing not a string", `{"header": "x-u", "missing": false}`, []string{
			`rules[0] (p).sample_by.missing: must be a string, got false`}},
		{"unknown key", `{"header": "x-u", "hedaer": "x"}`, []string{
			`rules[0] (p).sample_by.hedaer: unknown field`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			have := problems(t, rule(`"sample_by": `+tc.sample+`, "abort": {"percent": 5}`))
			if strings.Join(have, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("problems:\nhave %q\nwant %q", have, tc.want)
			}
		})
	}
	t.Run("without a fault", func(t *testing.T) {
		have := problems(t, rule(`"sample_by": {"header": "x-u"}`))
		want := `rules[0] (p): must configure at least one fault (abort, delay, corrupt, reset or duplicate)`
		if len(have) != 1 || have[0] != want {
			t.Fatalf("problems: have %q, want %q", have, want)
		}
	})
}

// The salts depend on the seed, the rule name and the fault kind, and on
// nothing else: the seed may come after the rules.
func TestParse_sampleSalts(t *testing.T) {
	salts := func(cfg string) [4]uint64 {
		t.Helper()
		c, err := Parse([]byte(cfg))
		if err != nil {
			t.Fatal(err)
		}
		return c.Rules[0].Sample.Salt
	}
	const r = `{"name": "a", "sample_by": {"header": "x-u"}, "abort": {"percent": 1}}`
	base := salts(`{"seed": 1, "rules": [` + r + `]}`)
	if have := salts(`{"rules": [` + r + `], "seed": 1}`); have != base {
		t.Fatalf("seed after the rules: have %x, want %x", have, base)
	}
	if have := salts(`{"seed": 1, "rules": [{"name": "a", "sample_by": {"cookie": "c"}, "delay": {"percent": 1, "fixed": "1s"}}]}`); have != base {
		t.Fatalf("other key and faults: have %x, want %x", have, base)
	}
	for _, other := range []string{
		`{"seed": 2, "rules": [` + r + `]}`,
		`{"rules": [` + r + `]}`,
		`{"seed": 1, "rules": [{"name": "b", "sample_by": {"header": "x-u"}, "abort": {"percent": 1}}]}`,
	} {
		have := salts(other)
		for k := range have {
			if have[k] == base[k] {
				t.Fatalf("%s: salt %d unchanged", other, k)
			}
		}
	}
	seen := map[uint64]bool{}
	for _, s := range base {
		if seen[s] {
			t.Fatalf("salts repeat across kinds: %x", base)
		}
		seen[s] = true
	}
}

package config

import (
	"slices"
	"testing"
	"time"
)

func TestParse_duplicate(t *testing.T) {
	tests := []struct {
		name, body string
		want       Duplicate
	}{
		{"defaults", `{"percent": 5}`, Duplicate{PPM: 50000, Copies: 1, After: 50 * time.Millisecond,
			Timeout: 5 * time.Second, MaxBytes: 65536}},
		{"everything", `{"percent": 100, "copies": 10, "after": "0s", "timeout": "5m", "cluster": "payments_v2", "max_bytes": 0}`,
			Duplicate{PPM: 1000000, Copies: 10, Timeout: 5 * time.Minute, Cluster: "payments_v2"}},
		{"largest", `{"percent": 0.0001, "after": "5m", "timeout": "1ms", "max_bytes": 1048576}`,
			Duplicate{PPM: 1, Copies: 1, After: 5 * time.Minute, Timeout: time.Millisecond, MaxBytes: 1 << 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(rule(`"duplicate": ` + tt.body)))
			if err != nil {
				t.Fatal(err)
			}
			r := c.Rules[0]
			if have := *r.Duplicate; have != tt.want {
				t.Fatalf("have %+v, want %+v", have, tt.want)
			}
			// A duplicate alone is a fault: the rule has a tag naming it.
			if have := r.Tag(FaultDuplicate); have != "p; duplicate" {
				t.Fatalf("tag: have %q", have)
			}
		})
	}
}

func TestParse_duplicateTags(t *testing.T) {
	c, err := Parse([]byte(rule(`"delay": {"percent": 1, "fixed": "1ms"}, "reset": {"percent": 1}, "duplicate": {"percent": 1}`)))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Rules[0]
	for f, want := range map[FaultSet]string{
		FaultDelay | FaultDuplicate: "p; delay,duplicate", FaultReset: "p; reset",
		FaultDelay | FaultReset | FaultDuplicate: "p; delay,reset,duplicate",
	} {
		if have := r.Tag(f); have != want {
			t.Errorf("Tag(%d): have %q, want %q", f, have, want)
		}
	}
}

func TestParse_duplicateErrors(t *testing.T) {
	const at = "rules[0] (p).duplicate"
	tests := []struct {
		name, body string
		want       []string
	}{
		{"not an object", `5`, []string{at + `: must be an object, got 5`}},
		{"no percent", `{}`, []string{at + `.percent: required`}},
		{"percent too big", `{"percent": 101}`, []string{at + `.percent: must be in [0, 100], got 101`}},
		{"copies zero", `{"percent": 5, "copies": 0}`, []string{at + `.copies: must be in [1, 10], got 0`}},
		{"copies too many", `{"percent": 5, "copies": 11}`, []string{at + `.copies: must be in [1, 10], got 11`}},
		{"copies not integer", `{"percent": 5, "copies": 1.5}`, []string{at + `.copies: ` + whyInteger + `, got 1.5`}},
		{"after not duration", `{"percent": 5, "after": 50}`, []string{at + `.after: must be a duration string like "250ms", got 50`}},
		{"after too long", `{"percent": 5, "after": "6m"}`, []string{at + `.after: must be in [0s, 5m], got "6m"`}},
		{"after negative", `{"percent": 5, "after": "-1ms"}`, []string{at + `.after: must be in [0s, 5m], got "-1ms"`}},
		{"timeout zero", `{"percent": 5, "timeout": "0s"}`, []string{at + `.timeout: must be in [1ms, 5m], got "0s"`}},
		{"cluster empty", `{"percent": 5, "cluster": ""}`,
			[]string{at + `.cluster: must be a cluster name: printable ASCII, 1 to 256 bytes, got ""`}},
		{"cluster control", `{"percent": 5, "cluster": "a\u0001"}`,
			[]string{at + `.cluster: must be a cluster name: printable ASCII, 1 to 256 bytes, got "a\u0001"`}},
		{"cluster not string", `{"percent": 5, "cluster": 1}`, []string{at + `.cluster: must be a string, got 1`}},
		{"max_bytes too big", `{"percent": 5, "max_bytes": 1048577}`, []string{at + `.max_bytes: must be in [0, 1048576], got 1048577`}},
		{"ramp", `{"percent": 5, "ramp": {"to": 50, "over": "1m"}}`, []string{at + `.ramp: not supported on duplicate: its percent is fixed`}},
		{"unknown key", `{"percent": 5, "copy": 2}`, []string{at + `.copy: unknown field`}},
		{"every problem", `{"copies": 0, "after": "x"}`, []string{at + `.copies: must be in [1, 10], got 0`,
			at + `.after: must be a duration string like "250ms", got "x"`, at + `.percent: required`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			have := problems(t, rule(`"duplicate": `+tt.body))
			if !slices.Equal(have, tt.want) {
				t.Fatalf("have %q\nwant %q", have, tt.want)
			}
		})
	}
}

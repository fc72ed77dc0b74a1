package config

// Size limits of a configuration: its bytes, its rules, and the duplicate
// check of large objects.

import (
	"strconv"
	"strings"
	"testing"
)

func TestParse_tooLarge(t *testing.T) {
	data := make([]byte, MaxConfigBytes+1)
	for i := range data {
		data[i] = ' '
	}
	have := problems(t, string(data))
	want := "config: must be at most 1048576 bytes, got 1048577 bytes"
	if len(have) != 1 || have[0] != want {
		t.Fatalf("problems = %q, want %q", have, want)
	}
}

func TestParse_tooManyRules(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"rules":[`)
	for i := 0; i <= MaxRules; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"name":"r` + strconv.Itoa(i) + `","reset":{"percent":1}}`)
	}
	b.WriteString(`]}`)
	have := problems(t, b.String())
	want := "rules: must have at most 10000 rules, got 10001 rules"
	if len(have) != 1 || have[0] != want {
		t.Fatalf("problems = %q, want %q", have, want)
	}
}

func TestParse_duplicateInBigObject(t *testing.T) {
	// Past 16 keys the duplicate check switches to a map.
	have := problems(t, rule(`"abort":{"percent":1,"headers":{`+manyHeaders(20)+`,"x-h3":"2"}}`))
	want := `rules[0] (p).abort.headers.x-h3: duplicate field`
	if len(have) != 1 || have[0] != want {
		t.Fatalf("problems = %q, want %q", have, want)
	}
}

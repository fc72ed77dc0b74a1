package config

import (
	"testing"

	"github.com/tidwall/gjson"
)

func TestPathArena_indexNamed(t *testing.T) {
	tests := []struct {
		name, path string
		i          int
		elem       string
		wantBase   string
		wantNamed  string
	}{
		{"named", "rules", 2, "payments", "rules[2]", "rules[2] (payments)"},
		{"unnamed", "rules", 12, "", "rules[12]", "rules[12]"},
		{"nested path", "a.rules", 0, "x", "a.rules[0]", "a.rules[0] (x)"},
	}
	var a pathArena
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, named := a.indexNamed(tt.path, tt.i, tt.elem)
			if base != tt.wantBase || named != tt.wantNamed {
				t.Fatalf("indexNamed(%q, %d, %q) = %q, %q, want %q, %q", tt.path, tt.i, tt.elem, base, named, tt.wantBase, tt.wantNamed)
			}
		})
	}
}

// firstField answers what Get answers for a plain key, which it replaces
// where a rule's name is read.
func TestFirstField(t *testing.T) {
	tests := []struct{ name, json string }{
		{"first", `{"name":"a","match":{}}`},
		{"later", `{"abort":{"name":"inner"},"name":"b"}`},
		{"repeated", `{"name":"a","name":"b"}`},
		{"escaped key", `{"na\u006de":1,"name":"b"}`},
		{"not a string", `{"name":{"x":1}}`},
		{"missing", `{"match":{"name":"x"}}`},
		{"empty object", `{}`},
		{"array", `["name"]`},
		{"string", `"name"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := gjson.Parse(tt.json)
			have, want := firstField(v, "name"), v.Get("name")
			if have.Type != want.Type || have.Raw != want.Raw || have.Str != want.Str {
				t.Fatalf("firstField = %v %q %q, Get = %v %q %q", have.Type, have.Raw, have.Str, want.Type, want.Raw, want.Str)
			}
		})
	}
}

package abi

import (
	"reflect"
	"testing"
)

// Envoy keeps pseudo headers in front of the others and otherwise insertion
// order; setCopy (proxy_replace_header_map_value) removes every value and
// adds one.
func TestHeaderMap_order(t *testing.T) {
	base := func() *HeaderMap {
		return &HeaderMap{Pairs: [][2]string{{":method", "GET"}, {":path", "/"}, {"a", "1"}, {"b", "2"}, {"a", "3"}}}
	}
	tests := []struct {
		name string
		op   func(m *HeaderMap)
		want [][2]string
	}{
		{"add appends", func(m *HeaderMap) { m.Add("c", "4") },
			[][2]string{{":method", "GET"}, {":path", "/"}, {"a", "1"}, {"b", "2"}, {"a", "3"}, {"c", "4"}}},
		{"add of a pseudo header stays in front", func(m *HeaderMap) { m.Add(":scheme", "http") },
			[][2]string{{":method", "GET"}, {":path", "/"}, {":scheme", "http"}, {"a", "1"}, {"b", "2"}, {"a", "3"}}},
		{"replace leaves one value at the end", func(m *HeaderMap) { m.Replace("a", "9") },
			[][2]string{{":method", "GET"}, {":path", "/"}, {"b", "2"}, {"a", "9"}}},
		{"replace of a pseudo header stays in front", func(m *HeaderMap) { m.Replace(":method", "POST") },
			[][2]string{{":path", "/"}, {":method", "POST"}, {"a", "1"}, {"b", "2"}, {"a", "3"}}},
		{"replace adds a missing key", func(m *HeaderMap) { m.Replace("z", "0") },
			[][2]string{{":method", "GET"}, {":path", "/"}, {"a", "1"}, {"b", "2"}, {"a", "3"}, {"z", "0"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := base()
			tc.op(m)
			if !reflect.DeepEqual(m.Pairs, tc.want) {
				t.Fatalf("have %q\nwant %q", m.Pairs, tc.want)
			}
		})
	}
}

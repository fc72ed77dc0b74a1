package abi

import "testing"

func TestDottedPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"xds\x00route_name", "xds.route_name"},
		{"xds\x00route_name\x00", "xds.route_name"},
		{"plugin_name", "plugin_name"},
		{"a\x00b\x00c\x00\x00", "a.b.c"},
		{"", ""},
		{"\x00", ""},
	}
	buf := make([]byte, 0, 4)
	for _, tc := range tests {
		buf = dottedPath(buf[:0], []byte(tc.in))
		if string(buf) != tc.want {
			t.Errorf("dottedPath(%q) = %q, want %q", tc.in, buf, tc.want)
		}
	}
}

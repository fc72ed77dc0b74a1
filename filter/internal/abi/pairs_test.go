package abi

import (
	"errors"
	"reflect"
	"testing"
)

func TestPairs_roundTrip(t *testing.T) {
	tests := []struct {
		name  string
		pairs [][2]string
	}{
		{name: "empty", pairs: nil},
		{name: "one", pairs: [][2]string{{"a", "1"}}},
		{name: "spec example", pairs: [][2]string{{"a", "1"}, {"b", "22"}}},
		{name: "repeated and empty values", pairs: [][2]string{{":path", "/x"}, {"k", ""}, {"k", "v"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := AppendPairs(nil, tc.pairs)
			p, err := ParsePairs(b)
			if err != nil {
				t.Fatalf("ParsePairs(%q): %v", b, err)
			}
			var have [][2]string
			p.Each(func(k, v string) bool {
				have = append(have, [2]string{k, v})
				return true
			})
			if !reflect.DeepEqual(have, tc.pairs) || p.Len() != len(tc.pairs) {
				t.Fatalf("want %q, have %q (Len %d)", tc.pairs, have, p.Len())
			}
			var cursor [][2]string
			for c := p.Cursor(); ; {
				k, v, ok := c.Next()
				if !ok {
					break
				}
				cursor = append(cursor, [2]string{k, v})
			}
			if !reflect.DeepEqual(cursor, tc.pairs) {
				t.Fatalf("Cursor: want %q, have %q", tc.pairs, cursor)
			}
		})
	}
}

func TestPairs_specBytes(t *testing.T) {
	// The example of the spec's Serialization section.
	want := []byte{2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,
		'a', 0, '1', 0, 'b', 0, '2', '2', 0}
	have := AppendPairs(nil, [][2]string{{"a", "1"}, {"b", "22"}})
	if !reflect.DeepEqual(have, want) {
		t.Fatalf("want %v, have %v", want, have)
	}
}

func TestPairs_get(t *testing.T) {
	p, err := ParsePairs(AppendPairs(nil, [][2]string{{"k", "1"}, {"x", ""}, {"k", "2"}}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key    string
		want   string
		wantOK bool
	}{
		{"k", "1", true},
		{"x", "", true},
		{"missing", "", false},
	}
	for _, tc := range tests {
		if v, ok := p.Get(tc.key); v != tc.want || ok != tc.wantOK {
			t.Fatalf("Get(%q): want %q %v, have %q %v", tc.key, tc.want, tc.wantOK, v, ok)
		}
	}
}

func TestParsePairs_malformed(t *testing.T) {
	valid := AppendPairs(nil, [][2]string{{"ab", "cd"}})
	tests := []struct {
		name string
		in   []byte
	}{
		{name: "short count", in: []byte{1, 0}},
		{name: "count too large", in: []byte{255, 255, 255, 255, 0, 0, 0, 0}},
		{name: "truncated data", in: valid[:len(valid)-1]},
		{name: "missing nul", in: append(append([]byte{}, valid[:len(valid)-1]...), 'x')},
		{name: "single non-zero byte", in: []byte{7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParsePairs(tc.in); !errors.Is(err, ErrParseFailure) {
				t.Fatalf("want ErrParseFailure, have %v", err)
			}
		})
	}
	for _, empty := range [][]byte{nil, {0}} {
		p, err := ParsePairs(empty)
		if err != nil || p.Len() != 0 {
			t.Fatalf("ParsePairs(%v): want empty map, have %d pairs, %v", empty, p.Len(), err)
		}
	}
}

func TestStatus_err(t *testing.T) {
	tests := []struct {
		s    Status
		want error
	}{
		{StatusOK, nil},
		{StatusNotFound, ErrNotFound},
		{StatusBadArgument, ErrBadArgument},
		{StatusUnimplemented, ErrUnimplemented},
		{Status(99), ErrUnknownStatus},
	}
	for _, tc := range tests {
		if have := tc.s.Err(); !errors.Is(have, tc.want) || (tc.want == nil) != (have == nil) {
			t.Fatalf("Status(%d).Err(): want %v, have %v", tc.s, tc.want, have)
		}
	}
}

func TestPairs_noAllocation(t *testing.T) {
	b := AppendPairs(nil, [][2]string{{":path", "/a"}, {":method", "GET"}, {"x-nedry-abort", "503"}, {"user-agent", "curl"}})
	allocs := testing.AllocsPerRun(100, func() {
		p, err := ParsePairs(b)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := p.Get("user-agent"); !ok || v != "curl" {
			t.Fatalf("Get(user-agent): have %q %v", v, ok)
		}
		p.Each(func(k, v string) bool { return true })
		for c := p.Cursor(); ; {
			if _, _, ok := c.Next(); !ok {
				break
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("parsing and reading pairs: want 0 allocations, have %v", allocs)
	}
}

func BenchmarkPairs(b *testing.B) {
	buf := AppendPairs(nil, [][2]string{{":path", "/a"}, {":method", "GET"}, {":authority", "example.com"}, {"user-agent", "curl"}, {"accept", "*/*"}})
	b.ReportAllocs()
	for b.Loop() {
		p, _ := ParsePairs(buf)
		p.Get("accept")
	}
}

package fault

import (
	"strings"
	"testing"

	"github.com/nedry-chaos/nedry/filter/internal/config"
)

// headerMap is a HeaderMap keeping every value of repeated headers, in
// order, as Envoy's header map does.
type headerMap struct {
	names  []string
	values []string
}

func newHeaderMap(kv ...string) *headerMap {
	h := &headerMap{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func (h *headerMap) Get(name string) (string, Lookup) {
	if name == "huge" {
		// Stands for a value the plugin's map declines to read.
		return "", ValueTooLong
	}
	for i, n := range h.names {
		if n == name {
			return h.values[i], ValueFound
		}
	}
	return "", ValueAbsent
}

func (h *headerMap) Set(name, value string) {
	h.Remove(name)
	h.Add(name, value)
}

// Add copies value: HeaderMap's contract lets ApplyOps reuse its bytes.
func (h *headerMap) Add(name, value string) {
	h.names = append(h.names, name)
	h.values = append(h.values, strings.Clone(value))
}

func (h *headerMap) Remove(name string) {
	var names, values []string
	for i, n := range h.names {
		if n != name {
			names = append(names, n)
			values = append(values, h.values[i])
		}
	}
	h.names, h.values = names, values
}

func (h *headerMap) String() string {
	var b strings.Builder
	for i, n := range h.names {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(n + "=" + h.values[i])
	}
	return b.String()
}

func TestApplyOps(t *testing.T) {
	tests := []struct {
		name string
		ops  []config.HeaderOp
		in   []string
		want string
	}{
		{"remove", []config.HeaderOp{{Kind: config.OpRemove, Name: "authorization"}},
			[]string{"authorization", "a", "x", "1", "authorization", "b"}, "x=1"},
		{"remove absent", []config.HeaderOp{{Kind: config.OpRemove, Name: "y"}}, []string{"x", "1"}, "x=1"},
		{"set replaces every value", []config.HeaderOp{{Kind: config.OpSet, Name: "via", Value: "n"}},
			[]string{"via", "a", "x", "1", "via", "b"}, "x=1; via=n"},
		{"set adds", []config.HeaderOp{{Kind: config.OpSet, Name: "via", Value: "n"}}, []string{"x", "1"}, "x=1; via=n"},
		{"set pseudo", []config.HeaderOp{{Kind: config.OpSet, Name: ":path", Value: "/other"}}, []string{":path", "/a"}, ":path=/other"},
		{"append", []config.HeaderOp{{Kind: config.OpAppend, Name: "via", Value: "n"}}, []string{"via", "a"}, "via=a; via=n"},
		{"empty", []config.HeaderOp{{Kind: config.OpEmpty, Name: "etag"}}, []string{"etag", "abc"}, "etag="},
		{"empty absent adds", []config.HeaderOp{{Kind: config.OpEmpty, Name: "etag"}}, nil, "etag="},
		{"truncate", []config.HeaderOp{{Kind: config.OpTruncate, Name: "cookie", Length: 3}}, []string{"cookie", "abcdef"}, "cookie=abc"},
		{"truncate to zero", []config.HeaderOp{{Kind: config.OpTruncate, Name: "cookie"}}, []string{"cookie", "abcdef"}, "cookie="},
		{"truncate shorter value", []config.HeaderOp{{Kind: config.OpTruncate, Name: "cookie", Length: 10}}, []string{"cookie", "abc"}, "cookie=abc"},
		{"truncate absent", []config.HeaderOp{{Kind: config.OpTruncate, Name: "cookie", Length: 1}}, []string{"x", "1"}, "x=1"},
		{"garble absent", []config.HeaderOp{{Kind: config.OpGarble, Name: "x-request-id"}}, []string{"x", "1"}, "x=1"},
		{"garble empty", []config.HeaderOp{{Kind: config.OpGarble, Name: "x"}}, []string{"x", ""}, "x="},
		{"status", []config.HeaderOp{{Kind: config.OpStatus, Name: ":status", Value: "502"}}, []string{":status", "200"}, ":status=502"},
		{"in order", []config.HeaderOp{
			{Kind: config.OpSet, Name: "a", Value: "1"},
			{Kind: config.OpAppend, Name: "a", Value: "2"},
			{Kind: config.OpRemove, Name: "b"},
			{Kind: config.OpTruncate, Name: "a", Length: 0},
		}, []string{"b", "x"}, "a="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHeaderMap(tc.in...)
			ApplyOps(tc.ops, h, NewRand(1), nil)
			if have := h.String(); have != tc.want {
				t.Fatalf("headers %q, want %q", have, tc.want)
			}
		})
	}
}

// TestApplyOps_readsFirstAndBounded: truncate and garble act on the first
// value of a repeated header (Envoy's proxy_get_header_map_value) and leave
// one value; a value over MaxOpValue, or one the map did not read, is left
// alone and the op counted as skipped.
func TestApplyOps_readsFirstAndBounded(t *testing.T) {
	tests := []struct {
		name    string
		ops     []config.HeaderOp
		in      []string
		want    string // a trailing \* stands for a garbled value of 2 bytes
		skipped int
	}{
		{"truncate a repeated header: the first value, one left", []config.HeaderOp{{Kind: config.OpTruncate, Name: "c", Length: 2}},
			[]string{"c", "abcd", "x", "1", "c", "wxyz"}, "x=1; c=ab", 0},
		{"garble a repeated header: the first value's length, one left", []config.HeaderOp{{Kind: config.OpGarble, Name: "c"}},
			[]string{"c", "ab", "c", "wxyz"}, "c=\\*", 0},
		{"truncate at the value bound", []config.HeaderOp{{Kind: config.OpTruncate, Name: "big", Length: 1}},
			[]string{"big", strings.Repeat("v", MaxOpValue)}, "big=v", 0},
		{"truncate over the value bound: left alone", []config.HeaderOp{{Kind: config.OpTruncate, Name: "big", Length: 1}},
			[]string{"big", strings.Repeat("v", MaxOpValue+1)}, "big=" + strings.Repeat("v", MaxOpValue+1), 1},
		{"garble over the value bound: left alone", []config.HeaderOp{{Kind: config.OpGarble, Name: "big"},
			{Kind: config.OpSet, Name: "after", Value: "1"}},
			[]string{"big", strings.Repeat("v", MaxOpValue+1)}, "big=" + strings.Repeat("v", MaxOpValue+1) + "; after=1", 1},
		{"a value the map did not read: left alone", []config.HeaderOp{{Kind: config.OpGarble, Name: "huge"},
			{Kind: config.OpTruncate, Name: "huge"}}, []string{"huge", "(not read)"}, "huge=(not read)", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHeaderMap(tc.in...)
			skipped := ApplyOps(tc.ops, h, NewRand(1), nil)
			have := h.String()
			if strings.HasSuffix(tc.want, "*") {
				// A garbled value: its length is what is known.
				prefix := strings.TrimSuffix(tc.want, "\\*")
				if !strings.HasPrefix(have, prefix) || len(have) != len(prefix)+2 {
					t.Fatalf("headers %q, want %q and the first value's length (2) garbled", have, prefix)
				}
			} else if have != tc.want {
				t.Fatalf("headers %q, want %q", have, tc.want)
			}
			if skipped != tc.skipped {
				t.Fatalf("skipped %d ops, want %d", skipped, tc.skipped)
			}
		})
	}
}

func TestApplyOps_garble(t *testing.T) {
	value := "0123456789abcdef-request-id with spaces\tand tab"
	ops := []config.HeaderOp{{Kind: config.OpGarble, Name: "x-request-id"}}
	seen := map[byte]bool{}
	for seed := uint64(1); seed <= 200; seed++ {
		h := newHeaderMap("x-request-id", value)
		ApplyOps(ops, h, NewRand(seed), nil)
		g, _ := h.Get("x-request-id")
		if len(g) != len(value) {
			t.Fatalf("garbled length %d, want %d", len(g), len(value))
		}
		if g == value {
			t.Fatalf("seed %d left the value unchanged", seed)
		}
		for i := 0; i < len(g); i++ {
			if g[i] < 0x21 || g[i] > 0x7e {
				t.Fatalf("garbled byte %#x at %d is not visible ASCII", g[i], i)
			}
			seen[g[i]] = true
		}
		// Deterministic for a seed.
		h2 := newHeaderMap("x-request-id", value)
		ApplyOps(ops, h2, NewRand(seed), nil)
		if g2, _ := h2.Get("x-request-id"); g2 != g {
			t.Fatalf("seed %d garbled to %q then %q", seed, g, g2)
		}
	}
	if len(seen) != 94 {
		t.Fatalf("garble used %d distinct characters, want all 94 visible ASCII", len(seen))
	}
}

func TestApplyOps_scratchReused(t *testing.T) {
	ops := []config.HeaderOp{
		{Kind: config.OpGarble, Name: "a"},
		{Kind: config.OpGarble, Name: "b"},
	}
	h := newHeaderMap("a", "0123456789", "b", "xyz")
	var scratch []byte
	ApplyOps(ops, h, NewRand(1), &scratch)
	a, _ := h.Get("a")
	b, _ := h.Get("b")
	if len(a) != 10 || len(b) != 3 || a == "0123456789" {
		t.Fatalf("garbled a=%q b=%q: want the lengths kept and new bytes", a, b)
	}
	h = newHeaderMap("a", "0123456789", "b", "xyz")
	allocs := testing.AllocsPerRun(50, func() {
		ApplyOps(ops, nopHeaderMap{h}, NewRand(1), &scratch)
	})
	if allocs != 0 {
		t.Fatalf("garbling with a warm scratch buffer: want 0 allocations, have %v", allocs)
	}
}

// nopHeaderMap reads from a headerMap and drops every write, so an
// allocation test measures ApplyOps and not the fake map.
type nopHeaderMap struct{ h *headerMap }

func (m nopHeaderMap) Get(name string) (string, Lookup) { return m.h.Get(name) }
func (nopHeaderMap) Set(string, string)                 {}
func (nopHeaderMap) Add(string, string)                 {}
func (nopHeaderMap) Remove(string)                      {}

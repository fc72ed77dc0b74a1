package abi

import (
	"encoding/binary"
	"math/rand/v2"
	"reflect"
	"testing"
)

// refDecodePairs is the pairs decoder as it was before decodePairs sliced one
// string: the same cpp-host checks, one string per key and value. The
// tests hold decodePairs to it.
func refDecodePairs(b []byte) ([][2]string, bool) {
	if len(b) == 0 {
		return nil, true
	}
	if len(b) > pairsMaxBytes || len(b) < 4 {
		return nil, false
	}
	n := binary.LittleEndian.Uint32(b)
	if n > pairsMaxCount || 4+uint64(n)*8 > uint64(len(b)) {
		return nil, false
	}
	pos, end := uint64(4+n*8), uint64(len(b))
	pairs := make([][2]string, n)
	for i := uint32(0); i < n; i++ {
		for j, size := range []uint64{uint64(binary.LittleEndian.Uint32(b[4+i*8:])), uint64(binary.LittleEndian.Uint32(b[8+i*8:]))} {
			if pos+size+1 > end || b[pos+size] != 0 {
				return nil, false
			}
			pairs[i][j] = string(b[pos : pos+size])
			pos += size + 1
		}
	}
	if pos != end {
		return nil, false
	}
	return pairs, true
}

// pairsBlock builds a pairs block by hand, so malformed ones can be made:
// sizes are the declared (key, value) sizes, text what follows the table.
func pairsBlock(count uint32, sizes [][2]uint32, text string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, count)
	for _, s := range sizes {
		b = binary.LittleEndian.AppendUint32(b, s[0])
		b = binary.LittleEndian.AppendUint32(b, s[1])
	}
	return append(b, text...)
}

func TestDecodePairs(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		want   [][2]string
		wantOK bool
	}{
		{"empty block", nil, nil, true},
		{"no pairs", pairsBlock(0, nil, ""), [][2]string{}, true},
		{"one pair", EncodePairs([][2]string{{"x-nedry-fault", "abort"}}), [][2]string{{"x-nedry-fault", "abort"}}, true},
		{"empty key and value", EncodePairs([][2]string{{"", ""}, {"a", ""}}), [][2]string{{"", ""}, {"a", ""}}, true},
		{"repeated keys", EncodePairs([][2]string{{"a", "1"}, {"a", "2"}}), [][2]string{{"a", "1"}, {"a", "2"}}, true},
		{"short of a count", []byte{1, 0}, nil, false},
		{"count past the size table", pairsBlock(2, [][2]uint32{{1, 1}}, ""), nil, false},
		{"too many pairs", pairsBlock(pairsMaxCount+1, nil, ""), nil, false},
		{"key without NUL", pairsBlock(1, [][2]uint32{{1, 1}}, "ab\x00"), nil, false},
		{"value without NUL", pairsBlock(1, [][2]uint32{{1, 1}}, "a\x00bc"), nil, false},
		{"value past the end", pairsBlock(1, [][2]uint32{{1, 5}}, "a\x00b\x00"), nil, false},
		{"trailing bytes", pairsBlock(1, [][2]uint32{{1, 1}}, "a\x00b\x00!"), nil, false},
		{"size overflowing 32 bits", pairsBlock(1, [][2]uint32{{1<<32 - 1, 1}}, "a\x00b\x00"), nil, false},
		{"over the size limit", append(pairsBlock(1, [][2]uint32{{pairsMaxBytes, 0}}, string(make([]byte, pairsMaxBytes))), 0, 0), nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			have, ok := decodePairs(tc.in, nil, nil)
			if ok != tc.wantOK || !reflect.DeepEqual(have, tc.want) {
				t.Fatalf("have %q, %t; want %q, %t", have, ok, tc.want, tc.wantOK)
			}
			ref, refOK := refDecodePairs(tc.in)
			if ok != refOK || !reflect.DeepEqual(have, ref) {
				t.Fatalf("have %q, %t; the per-string decoder says %q, %t", have, ok, ref, refOK)
			}
			var last lastString
			cached, cachedOK := decodePairs(tc.in, &last, nil)
			if cachedOK != ok || !reflect.DeepEqual(cached, have) {
				t.Fatalf("with a cache: have %q, %t; want %q, %t", cached, cachedOK, have, ok)
			}
		})
	}
}

// TestDecodePairs_mutations holds decodePairs to the per-string decoder on
// valid blocks with seeded random bytes, counts and sizes changed.
func TestDecodePairs_mutations(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var last lastString
	for i := range 20000 {
		pairs := make([][2]string, rng.IntN(5))
		for j := range pairs {
			pairs[j] = [2]string{randText(rng), randText(rng)}
		}
		b := EncodePairs(pairs)
		for range rng.IntN(3) {
			switch rng.IntN(3) {
			case 0:
				b[rng.IntN(len(b))] = byte(rng.IntN(4)) // NULs and a few others, where it hurts
			case 1:
				b = b[:rng.IntN(len(b)+1)]
			case 2:
				b = append(b, byte(rng.IntN(2)))
			}
			if len(b) == 0 {
				break
			}
		}
		want, wantOK := refDecodePairs(b)
		for _, cache := range []*lastString{nil, &last} {
			have, ok := decodePairs(b, cache, nil)
			if ok != wantOK || !reflect.DeepEqual(have, want) {
				t.Fatalf("case %d, block %q (cache %t): have %q, %t; want %q, %t", i, b, cache != nil, have, ok, want, wantOK)
			}
		}
	}
}

func randText(rng *rand.Rand) string {
	b := make([]byte, rng.IntN(6))
	for i := range b {
		b[i] = "ab\x00-:"[rng.IntN(5)]
	}
	return string(b)
}

// TestDecodePairs_noAlias checks that the pairs stay as they were when the
// guest reuses the block, with and without the cache.
func TestDecodePairs_noAlias(t *testing.T) {
	want := [][2]string{{"x-nedry-fault", "abort"}, {"retry-after", "1"}}
	var last lastString
	for _, cache := range []*lastString{nil, &last, &last} {
		b := EncodePairs(want)
		have, ok := decodePairs(b, cache, nil)
		for i := range b {
			b[i] = '%'
		}
		if !ok || !reflect.DeepEqual(have, want) {
			t.Fatalf("cache %t: after the block was overwritten have %q, %t; want %q", cache != nil, have, ok, want)
		}
	}
}

func TestDecodePairs_allocs(t *testing.T) {
	b := EncodePairs([][2]string{{"x-nedry-fault", "abort"}, {"retry-after", "1"}, {"content-type", "text/plain"}})
	var last lastString
	tests := []struct {
		name  string
		cache *lastString
		want  float64
	}{
		{"one string for every key and value", nil, 2},
		{"cached string", &last, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			have := testing.AllocsPerRun(100, func() { decodePairs(b, tc.cache, nil) })
			if have != tc.want {
				t.Fatalf("have %v allocations per decode, want %v", have, tc.want)
			}
		})
	}
}

func TestDecodePairs_room(t *testing.T) {
	one := EncodePairs([][2]string{{"x-nedry-fault", "abort"}})
	three := EncodePairs([][2]string{{"a", "1"}, {"b", "2"}, {"c", "3"}})
	tests := []struct {
		name     string
		in       []byte
		roomCap  int
		wantRoom bool // the result is the room's array
		wantLen  int
	}{
		{"pairs fit", one, 2, true, 1},
		{"pairs fill it", three, 3, true, 3},
		{"pairs do not fit", three, 2, false, 3},
		{"no pairs", pairsBlock(0, nil, ""), 2, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			room := make([][2]string, 0, tc.roomCap)
			have, ok := decodePairs(tc.in, nil, room)
			want, _ := refDecodePairs(tc.in)
			if !ok || !reflect.DeepEqual(have, want) {
				t.Fatalf("have %q, %t; want %q", have, ok, want)
			}
			if len(have) != tc.wantLen || cap(have) != tc.wantLen {
				t.Fatalf("have len %d, cap %d; want both %d (an append must not reach the rest of the room)", len(have), cap(have), tc.wantLen)
			}
			if len(have) == 0 {
				return
			}
			if inRoom := &have[0] == &room[:1][0]; inRoom != tc.wantRoom {
				t.Fatalf("result in the room: %t, want %t", inRoom, tc.wantRoom)
			}
		})
	}
	t.Run("cached and in the room", func(t *testing.T) {
		var last lastString
		var room [2][2]string
		have := testing.AllocsPerRun(100, func() { decodePairs(one, &last, room[:0]) })
		if have != 0 {
			t.Fatalf("have %v allocations per decode, want 0", have)
		}
	})
}

func TestLastString(t *testing.T) {
	abort, fail := []byte("nedry_fault_abort"), []byte("wasm_fail_stream")
	tests := []struct {
		name string
		ins  [][]byte // passed in turn
		want float64  // allocations per call
	}{
		{"same bytes every time", [][]byte{abort}, 0},
		{"alternating bytes", [][]byte{abort, fail}, 1},
		{"empty bytes", [][]byte{nil}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var last lastString
			i := 0
			have := testing.AllocsPerRun(100, func() {
				in := tc.ins[i%len(tc.ins)]
				i++
				if s := last.of(in); s != string(in) {
					t.Fatalf("have %q, want %q", s, in)
				}
			})
			if have != tc.want {
				t.Fatalf("have %v allocations per call, want %v", have, tc.want)
			}
		})
	}
	t.Run("no alias", func(t *testing.T) {
		var last lastString
		b := []byte("nedry_fault_abort")
		s := last.of(b)
		copy(b, "%%%%%")
		if s != "nedry_fault_abort" || last.of([]byte("nedry_fault_abort")) != "nedry_fault_abort" {
			t.Fatalf("overwriting the input changed the result: %q, cached %q", s, last.s)
		}
	})
}

func TestPutPairs(t *testing.T) {
	tests := []struct {
		name  string
		pairs [][2]string
	}{
		{"none", [][2]string{}},
		{"request headers", [][2]string{{":method", "GET"}, {":path", "/abort/x"}, {"x-request-id", "2f1e"}}},
		{"empty key and value", [][2]string{{"", ""}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := make([]byte, pairsSize(tc.pairs))
			putPairs(b, tc.pairs)
			have, ok := refDecodePairs(b)
			if !ok || !reflect.DeepEqual(have, tc.pairs) {
				t.Fatalf("decoded %q, %t; want %q", have, ok, tc.pairs)
			}
		})
	}
}

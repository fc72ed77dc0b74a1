package abi

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestPending(t *testing.T) {
	a, b, c := &Context{ID: 1}, &Context{ID: 2}, &Context{ID: 3}
	tests := []struct {
		name  string
		marks []*Context
		want  []*Context
	}{
		{"nothing", nil, nil},
		{"one", []*Context{a}, []*Context{a}},
		{"in order, once each", []*Context{b, a, b, c, a}, []*Context{b, a, c}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vm := &VM{}
			for _, m := range tc.marks {
				vm.markPending(m)
			}
			if have := vm.TakePending(); !slices.Equal(have, tc.want) {
				t.Fatalf("have %v, want %v", ids(have), ids(tc.want))
			}
			if have := vm.TakePending(); len(have) != 0 {
				t.Fatalf("taken twice: the second take has %v", ids(have))
			}
		})
	}
}

// TestPending_nested plays the host's use of TakePending: it loops over a
// taken slice and, for each context, may run callbacks that mark contexts
// and take them in a nested loop, before it reads the next one. Every taken
// slice must still hold what it held when taken until its loop is over,
// also across the arrays the windows are cut from. Seeded, so deterministic.
func TestPending_nested(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ctxs := make([]*Context, 8)
	for i := range ctxs {
		ctxs[i] = &Context{ID: uint32(i + 1)}
	}
	vm := &VM{}
	// mark marks up to 3 contexts at random, as one callback may, and
	// returns what TakePending must give back.
	mark := func() []*Context {
		var want []*Context
		for range rng.IntN(4) {
			c := ctxs[rng.IntN(len(ctxs))]
			vm.markPending(c)
			if !slices.Contains(want, c) {
				want = append(want, c)
			}
		}
		return want
	}
	var apply func(depth int)
	apply = func(depth int) {
		want := mark()
		taken := vm.TakePending()
		if !slices.Equal(taken, want) {
			t.Fatalf("depth %d: took %v, want %v", depth, ids(taken), ids(want))
		}
		for i := range taken {
			if depth < 4 && rng.IntN(2) == 0 {
				apply(depth + 1)
			}
			if !slices.Equal(taken, want) {
				t.Fatalf("depth %d: at %d the taken slice became %v, was %v", depth, i, ids(taken), ids(want))
			}
		}
	}
	for range 5000 {
		apply(0)
	}
}

func TestPending_allocs(t *testing.T) {
	vm := &VM{}
	c := &Context{ID: 1}
	have := testing.AllocsPerRun(1000, func() {
		vm.markPending(c)
		vm.TakePending()
	})
	// One array every pendingChunk local replies or continues, which
	// AllocsPerRun's whole-number average rounds down to 0.
	if have != 0 {
		t.Fatalf("have %v allocations per mark and take, want 0", have)
	}
}

func ids(cs []*Context) []uint32 {
	out := make([]uint32, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

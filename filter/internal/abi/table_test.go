package abi

import (
	"math/rand/v2"
	"testing"
)

// TestIDTable_againstMap runs a seeded random mix of puts, gets and removes
// on the table and on a Go map, with keys drawn from a small range so runs
// collide, wrap around the end and shift back often.
func TestIDTable_againstMap(t *testing.T) {
	tests := []struct {
		name  string
		keys  uint32
		steps int
	}{
		{name: "dense", keys: 40, steps: 20000},
		{name: "sequential ids", keys: 5000, steps: 50000},
		{name: "high ids", keys: 1 << 31, steps: 20000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(tc.keys)))
			var tab idTable[int]
			ref := map[uint32]int{}
			for step := 0; step < tc.steps; step++ {
				k := 1 + uint32(rng.Uint64N(uint64(tc.keys)))
				switch rng.IntN(3) {
				case 0:
					tab.put(k, step)
					ref[k] = step
				case 1:
					_, want := ref[k]
					delete(ref, k)
					if have := tab.remove(k); have != want {
						t.Fatalf("step %d: remove(%d) = %v, want %v", step, k, have, want)
					}
				case 2:
					want, wok := ref[k]
					if have, ok := tab.get(k); ok != wok || have != want {
						t.Fatalf("step %d: get(%d) = %d, %v; want %d, %v", step, k, have, ok, want, wok)
					}
				}
				if tab.len() != len(ref) {
					t.Fatalf("step %d: len = %d, want %d", step, tab.len(), len(ref))
				}
			}
			for k, want := range ref {
				if have, ok := tab.get(k); !ok || have != want {
					t.Fatalf("final get(%d) = %d, %v; want %d, true", k, have, ok, want)
				}
			}
		})
	}
}

func TestIDTable_zeroKey(t *testing.T) {
	var tab idTable[int]
	if _, ok := tab.get(0); ok || tab.remove(0) {
		t.Fatal("id 0 found in an empty table")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("put(0) did not panic")
		}
	}()
	tab.put(0, 1)
}

func TestIDTable_noAllocsInSteadyState(t *testing.T) {
	var tab idTable[int]
	for k := uint32(1); k <= 100; k++ {
		tab.put(k, 1)
	}
	next := uint32(101)
	n := testing.AllocsPerRun(1000, func() {
		// Sliding window of 100 live ids, as a host creating and deleting
		// streams in order.
		tab.put(next, 1)
		tab.remove(next - 100)
		next++
	})
	if n != 0 {
		t.Fatalf("steady put/remove allocates %v times", n)
	}
}

package abi

import (
	"errors"
	"testing"
)

func TestMemory_pinTakeUnpin(t *testing.T) {
	mark := pinMark()
	// A host call that asks for two buffers: both stay pinned until unpin.
	a := allocate(3)
	b := allocate(5)
	if len(pinned) != mark+2 {
		t.Fatalf("want %d pinned buffers, have %d", mark+2, len(pinned))
	}
	got, err := take(mark, b, 4)
	if err != nil || len(got) != 4 {
		t.Fatalf("take(b, 4): want 4 bytes, have %d, %v", len(got), err)
	}
	if _, err := take(mark, a, 4); !errors.Is(err, ErrInvalidMemoryAccess) {
		t.Fatalf("take(a, 4) beyond its 3 bytes: want ErrInvalidMemoryAccess, have %v", err)
	}
	if _, err := take(mark, a+1, 1); !errors.Is(err, ErrInvalidMemoryAccess) {
		t.Fatalf("take of an address the guest never handed out: want ErrInvalidMemoryAccess, have %v", err)
	}
	unpin(mark)
	if len(pinned) != mark {
		t.Fatalf("after unpin: want %d pinned buffers, have %d", mark, len(pinned))
	}
	if p := allocate(0); p == 0 {
		t.Fatal("allocate(0) answered 0, which the ABI reserves for failure")
	}
	unpin(mark)
}

func TestMemory_nestedCallbacks(t *testing.T) {
	outer := pinMark()
	allocate(8)
	inner := pinMark()
	allocate(8)
	unpin(inner)
	if len(pinned) != outer+1 {
		t.Fatalf("inner unpin released the outer call's buffer: %d pinned", len(pinned))
	}
	enter()
	leave()
	if len(pinned) != 0 {
		t.Fatalf("outermost leave must drop every pin, %d left", len(pinned))
	}
}

func TestMemory_arena(t *testing.T) {
	mark := pinMark()
	defer unpin(mark)
	enter()
	defer leave()
	arenaArmed = true
	a := allocate(100)
	b := allocate(100) // only the armed allocation comes from the arena
	arenaArmed = true
	c := allocate(50)
	if c != a+100 {
		t.Fatalf("two armed allocations in one callback: want them side by side, have %#x then %#x", a, c)
	}
	if b >= a && b < a+150 {
		t.Fatal("an unarmed allocation came from the arena")
	}
	arenaArmed = true
	if d := allocate(maxArena); d == a || arenaArmed {
		t.Fatalf("request beyond the arena: want a one-off buffer and the arena disarmed, have %#x (arena %#x), armed %v", d, a, arenaArmed)
	}
	leave()
	enter() // a new outermost callback reuses the arena from its start
	arenaArmed = true
	if e := allocate(10); e != a {
		t.Fatalf("next callback: want the arena reused at %#x, have %#x", a, e)
	}
}

func TestMemory_arenaNoAllocation(t *testing.T) {
	enter()
	arenaArmed = true
	allocate(512) // grows the arena once
	leave()
	allocs := testing.AllocsPerRun(100, func() {
		enter()
		for range 4 {
			arenaArmed = true
			allocate(128)
		}
		leave()
	})
	if allocs != 0 {
		t.Fatalf("armed allocations in a warm arena: want 0 heap allocations, have %v", allocs)
	}
}

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

func TestMemory_scratchReused(t *testing.T) {
	mark := pinMark()
	defer unpin(mark)
	scratchArmed = true
	a := allocate(100)
	b := allocate(100) // only the first allocation of a call is transient
	scratchArmed = true
	c := allocate(50)
	if a != c {
		t.Fatalf("armed allocations: want the scratch buffer twice, have %#x then %#x", a, c)
	}
	if a == b {
		t.Fatal("an unarmed allocation got the scratch buffer")
	}
	scratchArmed = true
	if d := allocate(maxScratch + 1); d == a || scratchArmed {
		t.Fatalf("oversized request: want a one-off buffer and the scratch disarmed, have %#x (scratch %#x), armed %v", d, a, scratchArmed)
	}
}

package fault

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func popAll(q *DelayQueue, now int64) []uint32 {
	var ids []uint32
	q.PopDue(now, func(id uint32) { ids = append(ids, id) })
	return ids
}

func TestDelayQueue(t *testing.T) {
	var q DelayQueue
	if _, ok := q.Next(); ok || q.Len() != 0 {
		t.Fatal("empty queue has a next entry")
	}
	q.Push(1, 300)
	q.Push(2, 100)
	q.Push(3, 200)
	q.Push(4, 100) // same due as 2: comes out after it
	q.Push(5, 500)
	if due, ok := q.Next(); !ok || due != 100 || q.Len() != 5 {
		t.Fatalf("Next = %d, %v; Len = %d", due, ok, q.Len())
	}
	if have := popAll(&q, 99); len(have) != 0 {
		t.Fatalf("PopDue(99) = %v, want none", have)
	}
	if have := popAll(&q, 200); !slices.Equal(have, []uint32{2, 4, 3}) {
		t.Fatalf("PopDue(200) = %v, want [2 4 3]", have)
	}
	if !q.Remove(5) || q.Remove(5) || q.Remove(42) {
		t.Fatal("Remove reported wrongly")
	}
	q.Push(1, 50) // moves 1 earlier
	q.Push(6, 400)
	if due, _ := q.Next(); due != 50 {
		t.Fatalf("Next = %d after moving 1, want 50", due)
	}
	// fn may push while popping; a pushed entry that is due comes out too.
	var order []uint32
	q.PopDue(1000, func(id uint32) {
		order = append(order, id)
		if id == 1 {
			q.Push(7, 60)
			q.Push(8, 2000)
		}
	})
	if !slices.Equal(order, []uint32{1, 7, 6}) || q.Len() != 1 {
		t.Fatalf("PopDue(1000) = %v, Len %d; want [1 7 6], 1", order, q.Len())
	}
}

// TestDelayQueue_againstSort compares the heap with a sorted list under a
// random mix of pushes, removals and pops.
func TestDelayQueue_againstSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	type item struct {
		id  uint32
		due int64
		seq int
	}
	var q DelayQueue
	var ref []item
	seq := 0
	now := int64(0)
	for step := 0; step < 20000; step++ {
		switch rng.IntN(4) {
		case 0, 1:
			id := uint32(rng.IntN(200))
			due := now + int64(rng.IntN(1000))
			q.Push(id, due)
			ref = slices.DeleteFunc(ref, func(it item) bool { return it.id == id })
			seq++
			ref = append(ref, item{id, due, seq})
		case 2:
			id := uint32(rng.IntN(200))
			n := len(ref)
			ref = slices.DeleteFunc(ref, func(it item) bool { return it.id == id })
			if have := q.Remove(id); have != (len(ref) != n) {
				t.Fatalf("step %d: Remove(%d) = %v", step, id, have)
			}
		case 3:
			now += int64(rng.IntN(300))
			slices.SortFunc(ref, func(a, b item) int {
				if a.due != b.due {
					return int(a.due - b.due)
				}
				return a.seq - b.seq
			})
			var want []uint32
			for len(ref) > 0 && ref[0].due <= now {
				want = append(want, ref[0].id)
				ref = ref[1:]
			}
			if have := popAll(&q, now); !slices.Equal(have, want) {
				t.Fatalf("step %d: PopDue(%d) = %v, want %v", step, now, have, want)
			}
		}
		if q.Len() != len(ref) {
			t.Fatalf("step %d: Len = %d, want %d", step, q.Len(), len(ref))
		}
	}
}

func TestDelayQueue_noAllocsInSteadyState(t *testing.T) {
	var q DelayQueue
	for i := uint32(0); i < 1000; i++ {
		q.Push(i, int64(i))
	}
	q.PopDue(1<<62, func(uint32) {})
	id := uint32(0)
	now := int64(0)
	fn := func(uint32) {}
	n := testing.AllocsPerRun(1000, func() {
		for k := 0; k < 100; k++ {
			id++
			q.Push(id%1000, now+int64(k))
		}
		q.Remove((id + 3) % 1000)
		now += 50
		q.PopDue(now, fn)
	})
	if n != 0 {
		t.Fatalf("steady-state queue operations allocate %v times", n)
	}
}

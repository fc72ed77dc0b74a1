package fault

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// qitem is a queued test item; items are found by id in an itemSet.
type qitem struct {
	Slot
	id uint32
}

type itemSet map[uint32]*qitem

func (s itemSet) get(id uint32) *qitem {
	it := s[id]
	if it == nil {
		it = &qitem{id: id}
		s[id] = it
	}
	return it
}

func popAll(q *DelayQueue[*qitem], now int64) []uint32 {
	var ids []uint32
	q.PopDue(now, func(it *qitem) {
		if it.Queued() {
			panic("popped item still marked queued")
		}
		ids = append(ids, it.id)
	})
	return ids
}

func TestDelayQueue(t *testing.T) {
	var q DelayQueue[*qitem]
	items := itemSet{}
	push := func(id uint32, due int64) { q.Push(items.get(id), due) }
	if _, ok := q.Next(); ok || q.Len() != 0 {
		t.Fatal("empty queue has a next entry")
	}
	push(1, 300)
	push(2, 100)
	push(3, 200)
	push(4, 100) // same due as 2: comes out after it
	push(5, 500)
	if due, ok := q.Next(); !ok || due != 100 || q.Len() != 5 {
		t.Fatalf("Next = %d, %v; Len = %d", due, ok, q.Len())
	}
	if have := popAll(&q, 99); len(have) != 0 {
		t.Fatalf("PopDue(99) = %v, want none", have)
	}
	if have := popAll(&q, 200); !slices.Equal(have, []uint32{2, 4, 3}) {
		t.Fatalf("PopDue(200) = %v, want [2 4 3]", have)
	}
	if !q.Remove(items.get(5)) || q.Remove(items.get(5)) || q.Remove(items.get(42)) {
		t.Fatal("Remove reported wrongly")
	}
	push(1, 50) // moves 1 earlier
	push(6, 400)
	if due, _ := q.Next(); due != 50 {
		t.Fatalf("Next = %d after moving 1, want 50", due)
	}
	// fn may push while popping; a pushed entry that is due comes out too.
	var order []uint32
	q.PopDue(1000, func(it *qitem) {
		order = append(order, it.id)
		if it.id == 1 {
			push(7, 60)
			push(8, 2000)
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
	var q DelayQueue[*qitem]
	items := itemSet{}
	var ref []item
	seq := 0
	now := int64(0)
	for step := 0; step < 20000; step++ {
		switch rng.IntN(5) {
		case 0, 1:
			id := uint32(rng.IntN(200))
			due := now + int64(rng.IntN(1000))
			q.Push(items.get(id), due)
			ref = slices.DeleteFunc(ref, func(it item) bool { return it.id == id })
			seq++
			ref = append(ref, item{id, due, seq})
		case 2:
			id := uint32(rng.IntN(200))
			n := len(ref)
			ref = slices.DeleteFunc(ref, func(it item) bool { return it.id == id })
			if have := q.Remove(items.get(id)); have != (len(ref) != n) {
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
		case 4:
			// Remove a residue class of ids at once, as releasing the
			// streams of one rule does.
			m := uint32(2 + rng.IntN(5))
			r := uint32(rng.IntN(int(m)))
			var want []uint32
			for _, it := range ref {
				if it.id%m == r {
					want = append(want, it.id)
				}
			}
			ref = slices.DeleteFunc(ref, func(it item) bool { return it.id%m == r })
			var have []uint32
			q.RemoveFunc(func(it *qitem) bool { return it.id%m == r }, func(it *qitem) {
				if it.Queued() {
					panic("removed item still marked queued")
				}
				have = append(have, it.id)
			})
			slices.Sort(have)
			slices.Sort(want)
			if !slices.Equal(have, want) {
				t.Fatalf("step %d: RemoveFunc(id %% %d == %d) removed %v, want %v", step, m, r, have, want)
			}
		}
		if q.Len() != len(ref) {
			t.Fatalf("step %d: Len = %d, want %d", step, q.Len(), len(ref))
		}
	}
}

func TestDelayQueue_noAllocsInSteadyState(t *testing.T) {
	var q DelayQueue[*qitem]
	items := make([]*qitem, 1000)
	for i := range items {
		items[i] = &qitem{id: uint32(i)}
		q.Push(items[i], int64(i))
	}
	q.PopDue(1<<62, func(*qitem) {})
	id := uint32(0)
	now := int64(0)
	fn := func(*qitem) {}
	n := testing.AllocsPerRun(1000, func() {
		for k := 0; k < 100; k++ {
			id++
			q.Push(items[id%1000], now+int64(k))
		}
		q.Remove(items[(id+3)%1000])
		now += 50
		q.PopDue(now, fn)
	})
	if n != 0 {
		t.Fatalf("steady-state queue operations allocate %v times", n)
	}
}

// TestDelayQueue_removeForeign checks that an item queued in another queue
// is not removed from this one, and that Grow keeps the queued items.
func TestDelayQueue_removeForeign(t *testing.T) {
	var a, b DelayQueue[*qitem]
	x, y := &qitem{id: 1}, &qitem{id: 2}
	a.Push(x, 10)
	b.Push(y, 20)
	if b.Remove(x) || a.Remove(y) {
		t.Fatal("Remove took an item of another queue")
	}
	a.Grow(100)
	if a.Len() != 1 || !x.Queued() {
		t.Fatalf("after Grow: Len %d, queued %v; want 1, true", a.Len(), x.Queued())
	}
	if have := popAll(&a, 10); !slices.Equal(have, []uint32{1}) {
		t.Fatalf("PopDue(10) = %v, want [1]", have)
	}
	if x.Queued() || !y.Queued() {
		t.Fatalf("queued after pop: x %v, y %v; want false, true", x.Queued(), y.Queued())
	}
}

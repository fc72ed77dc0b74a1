package fault

// DelayQueue holds what a delay has paused, ordered by due time: a binary
// min-heap. Each item carries its own Slot, where the queue keeps the item's
// heap index, so removing an item (a stream reset while paused) needs no
// lookup table: a Go map insert and delete per pause cost more in wasm than
// the whole heap operation. Items due at the same time come out in push
// order. Its storage is reused, so steady-state operations do not allocate.
// It is not safe for concurrent use.
type DelayQueue[T Queued] struct {
	heap []entry[T]
	seq  uint64
}

// Queued is what a DelayQueue holds: usually a pointer to a struct that
// embeds a Slot.
type Queued interface {
	comparable
	QueueSlot() *Slot
}

// Slot is an item's place in a DelayQueue. Its zero value is "not queued".
// An item belongs to at most one queue at a time.
type Slot struct {
	index int // heap index + 1; 0 when not queued
}

// QueueSlot returns s, so that a struct embedding a Slot satisfies Queued
// through a pointer.
func (s *Slot) QueueSlot() *Slot { return s }

// Queued reports whether the item is in a queue.
func (s *Slot) Queued() bool { return s.index != 0 }

type entry[T Queued] struct {
	due int64 // nanoseconds, on the plugin's clock
	seq uint64
	v   T
}

func (a *entry[T]) less(b *entry[T]) bool {
	if a.due != b.due {
		return a.due < b.due
	}
	return a.seq < b.seq
}

// Grow makes room for n more items, so that holding that many later does
// not grow the heap on the request path.
func (q *DelayQueue[T]) Grow(n int) {
	if n > cap(q.heap)-len(q.heap) {
		h := make([]entry[T], len(q.heap), len(q.heap)+n)
		copy(h, q.heap)
		q.heap = h
	}
}

// Len returns the number of queued items.
func (q *DelayQueue[T]) Len() int { return len(q.heap) }

// Next returns the earliest due time, or false when the queue is empty.
func (q *DelayQueue[T]) Next() (due int64, ok bool) {
	if len(q.heap) == 0 {
		return 0, false
	}
	return q.heap[0].due, true
}

// Push queues v until due. Pushing an item that is already queued moves it
// to the new due time.
func (q *DelayQueue[T]) Push(v T, due int64) {
	q.seq++
	if i := v.QueueSlot().index - 1; i >= 0 {
		q.heap[i].due = due
		q.heap[i].seq = q.seq
		q.fix(i)
		return
	}
	q.heap = append(q.heap, entry[T]{due: due, seq: q.seq, v: v})
	i := len(q.heap) - 1
	v.QueueSlot().index = i + 1
	q.up(i)
}

// Remove drops v and reports whether it was queued.
func (q *DelayQueue[T]) Remove(v T) bool {
	i := v.QueueSlot().index - 1
	if i < 0 || i >= len(q.heap) || q.heap[i].v != v {
		// Not queued, or queued elsewhere: leave it alone.
		return false
	}
	q.removeAt(i)
	return true
}

// PopDue removes every item due at or before now, earliest first, and calls
// fn with each after removing it, so fn may push or remove others.
func (q *DelayQueue[T]) PopDue(now int64, fn func(T)) {
	for len(q.heap) > 0 && q.heap[0].due <= now {
		v := q.heap[0].v
		q.removeAt(0)
		fn(v)
	}
}

// RemoveFunc removes every item for which match reports true and then calls
// fn with each, in no particular order. It serves releasing many items at
// once (all of them, or those of one rule): one pass and one re-heap
// instead of a search and a sift per item. fn must not push to or remove
// from q: the removed items wait in the spare room of the heap's array
// until fn has seen them all.
func (q *DelayQueue[T]) RemoveFunc(match func(T) bool, fn func(T)) {
	n, kept := len(q.heap), 0
	for i := 0; i < n; i++ {
		if !match(q.heap[i].v) {
			q.heap[kept], q.heap[i] = q.heap[i], q.heap[kept]
			kept++
		}
	}
	if kept == n {
		return
	}
	removed := q.heap[kept:n]
	q.heap = q.heap[:kept]
	for i := range q.heap {
		q.heap[i].v.QueueSlot().index = i + 1
	}
	for i := kept/2 - 1; i >= 0; i-- {
		q.down(i)
	}
	var zero T
	for i := range removed {
		v := removed[i].v
		removed[i].v = zero // keep no reference to a dequeued item
		v.QueueSlot().index = 0
		fn(v)
	}
}

func (q *DelayQueue[T]) removeAt(i int) {
	last := len(q.heap) - 1
	q.heap[i].v.QueueSlot().index = 0
	if i != last {
		q.heap[i] = q.heap[last]
		q.heap[i].v.QueueSlot().index = i + 1
	}
	var zero T
	q.heap[last].v = zero // keep no reference to a dequeued item
	q.heap = q.heap[:last]
	if i != last {
		q.fix(i)
	}
}

func (q *DelayQueue[T]) fix(i int) {
	if !q.down(i) {
		q.up(i)
	}
}

func (q *DelayQueue[T]) swap(i, j int) {
	q.heap[i], q.heap[j] = q.heap[j], q.heap[i]
	q.heap[i].v.QueueSlot().index = i + 1
	q.heap[j].v.QueueSlot().index = j + 1
}

func (q *DelayQueue[T]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !q.heap[i].less(&q.heap[p]) {
			return
		}
		q.swap(i, p)
		i = p
	}
}

// down sifts i towards the leaves and reports whether it moved.
func (q *DelayQueue[T]) down(i int) bool {
	start := i
	n := len(q.heap)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && q.heap[r].less(&q.heap[l]) {
			m = r
		}
		if !q.heap[m].less(&q.heap[i]) {
			break
		}
		q.swap(i, m)
		i = m
	}
	return i > start
}

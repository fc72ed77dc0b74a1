package fault

// DelayQueue holds the streams a delay has paused, ordered by due time: a
// binary min-heap of (due, stream id) with an index by id so a stream reset
// while paused can be dropped in O(log n). Streams due at the same time come
// out in push order. Its storage is reused, so steady-state operations do not
// allocate. It is not safe for concurrent use.
type DelayQueue struct {
	heap []entry
	pos  map[uint32]int // stream id -> index in heap
	seq  uint64
}

type entry struct {
	due int64 // nanoseconds, on the plugin's clock
	seq uint64
	id  uint32
}

func (a entry) less(b entry) bool {
	if a.due != b.due {
		return a.due < b.due
	}
	return a.seq < b.seq
}

// Len returns the number of queued streams.
func (q *DelayQueue) Len() int { return len(q.heap) }

// Next returns the earliest due time, or false when the queue is empty.
func (q *DelayQueue) Next() (due int64, ok bool) {
	if len(q.heap) == 0 {
		return 0, false
	}
	return q.heap[0].due, true
}

// Push queues stream id until due. Pushing an id that is already queued
// moves it to the new due time.
func (q *DelayQueue) Push(id uint32, due int64) {
	if q.pos == nil {
		q.pos = make(map[uint32]int)
	}
	q.seq++
	if i, ok := q.pos[id]; ok {
		q.heap[i].due = due
		q.heap[i].seq = q.seq
		q.fix(i)
		return
	}
	q.heap = append(q.heap, entry{due: due, seq: q.seq, id: id})
	i := len(q.heap) - 1
	q.pos[id] = i
	q.up(i)
}

// Remove drops stream id and reports whether it was queued.
func (q *DelayQueue) Remove(id uint32) bool {
	i, ok := q.pos[id]
	if !ok {
		return false
	}
	q.removeAt(i)
	return true
}

// PopDue removes every stream due at or before now, earliest first, and
// calls fn with each after removing it, so fn may push or remove others.
func (q *DelayQueue) PopDue(now int64, fn func(id uint32)) {
	for len(q.heap) > 0 && q.heap[0].due <= now {
		id := q.heap[0].id
		q.removeAt(0)
		fn(id)
	}
}

func (q *DelayQueue) removeAt(i int) {
	last := len(q.heap) - 1
	delete(q.pos, q.heap[i].id)
	if i != last {
		q.heap[i] = q.heap[last]
		q.pos[q.heap[i].id] = i
	}
	q.heap = q.heap[:last]
	if i != last {
		q.fix(i)
	}
}

func (q *DelayQueue) fix(i int) {
	if !q.down(i) {
		q.up(i)
	}
}

func (q *DelayQueue) swap(i, j int) {
	q.heap[i], q.heap[j] = q.heap[j], q.heap[i]
	q.pos[q.heap[i].id] = i
	q.pos[q.heap[j].id] = j
}

func (q *DelayQueue) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !q.heap[i].less(q.heap[p]) {
			return
		}
		q.swap(i, p)
		i = p
	}
}

// down sifts i towards the leaves and reports whether it moved.
func (q *DelayQueue) down(i int) bool {
	start := i
	n := len(q.heap)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && q.heap[r].less(q.heap[l]) {
			m = r
		}
		if !q.heap[m].less(q.heap[i]) {
			break
		}
		q.swap(i, m)
		i = m
	}
	return i > start
}

package abi

import "testing"

type countWatcher struct{ seen []int64 }

func (w *countWatcher) OnWatchedResponse(since int64) { w.seen = append(w.seen, since) }

// resetWatches empties the watch table after a test.
func resetWatches() {
	lastWatch.id, lastWatch.ws = 0, watchSlot{}
	watches.slots, watches.free, watches.init = [watchCap]watchSlot{}, nil, false
}

// The latest watch sits in lastWatch; older ones spill into the table and
// the registry; past watchCap Watch refuses and changes nothing. Every
// watch is found once, by its stream's id, answered or deleted, and its
// slot is free again afterwards.
func TestWatch_spillAndBound(t *testing.T) {
	t.Cleanup(resetRegistry)
	t.Cleanup(resetWatches)
	w := &countWatcher{}
	for id := uint32(1); id <= watchCap+1; id++ {
		if !Watch(id, w, int64(id)) {
			t.Fatalf("Watch(%d) refused with %d watched", id, id-1)
		}
	}
	if Watch(watchCap+2, w, 0) {
		t.Fatal("Watch accepted past watchCap+1 streams")
	}
	if e, _ := streams.get(watchCap + 2); e.watch != 0 || lastWatch.id != watchCap+1 {
		t.Fatal("a refused Watch changed the registry or lastWatch")
	}
	// Answer the latest, then every spilled one in reverse, except one
	// that a client reset deletes.
	for id := uint32(watchCap + 1); id >= 1; id-- {
		e := lookupStream(id)
		switch {
		case id == lastWatch.id:
			runWatch(id, 0)
		case id == 7:
			onDelete(id)
		case e.watch != 0:
			runWatch(id, e.watch)
		default:
			t.Fatalf("stream %d: no watch", id)
		}
		if e := lookupStream(id); e.watch != 0 || e.s != nil {
			t.Fatalf("stream %d still registered", id)
		}
	}
	if len(w.seen) != watchCap || w.seen[0] != watchCap+1 || w.seen[len(w.seen)-1] != 1 {
		t.Fatalf("%d responses seen (first %d), want %d", len(w.seen), w.seen[0], watchCap)
	}
	if len(watches.free) != watchCap || streams.len() != 0 || lastWatch.id != 0 {
		t.Fatalf("%d free slots, %d registered, lastWatch %d", len(watches.free), streams.len(), lastWatch.id)
	}
}

package abi

// Watched quiet streams. A control request of a guarded rule needs only
// its response headers, and of its context only the rule and its start
// time. Kept awake, it cost a full context in the registry to its response
// headers (a registry insert and removal) and a callback into the stream's
// plugin code there. Instead it goes quiet at request headers, as unmatched
// streams do, with a watch: its Watcher and start time. Its context is
// recycled at once; at its response headers the layer calls the watcher
// itself (runWatch), and then forgets the stream as Release does.
//
// The latest watched stream sits in one slot, lastWatch, out of the
// registry: its response headers usually come before another control
// request's request headers (as a stream's callbacks mostly come in a row,
// see lastStream). A watch that a newer one displaces spills into a fixed
// table, and its registry entry carries its slot number beside its quiet
// flag, so the entry grows no wider. Streams that are not watched read no
// watch: their callbacks take today's paths, with one compare against
// lastWatch in proxy_on_response_headers for a stream that is neither the
// last quiet one nor awake.

// Watcher is told the response headers of a watched stream.
type Watcher interface {
	// OnWatchedResponse runs in proxy_on_response_headers of the stream
	// watched since since (the value given to Watch); it may read the
	// response headers. A stream that ends without response headers (a
	// client reset) never calls it.
	OnWatchedResponse(since int64)
}

// watchCap bounds the watched streams in flight per VM beyond lastWatch.
// When the table is full, Watch refuses and the plugin keeps the stream
// awake, the way every control request was watched before: slower, never
// wrong.
const watchCap = 512

// watchSlot is one watched stream.
type watchSlot struct {
	w     Watcher
	since int64
}

var (
	lastWatch struct {
		id uint32
		ws watchSlot
	}
	watches struct {
		slots [watchCap]watchSlot
		free  []uint16 // free slot numbers, filled on first use
		init  bool
	}
)

// Watch makes stream contextID quiet (see Quiet) and watched by w from
// since: at its response headers the layer calls w.OnWatchedResponse. When
// it answers true the layer keeps no reference to the stream's context, so
// the plugin recycles it at once. It answers false, and changes nothing,
// when watchCap streams are watched already: the stream then stays as it
// was.
func Watch(contextID uint32, w Watcher, since int64) bool {
	if contextID == 0 || (lastWatch.id != 0 && !spillWatch()) {
		return false
	}
	if streams.ptr(contextID) != nil {
		// Filed after its first callback: its context leaves the registry.
		streams.remove(contextID)
		if lastStream.id == contextID {
			lastStream.id, lastStream.e = 0, streamEntry{}
		}
	}
	lastWatch.id, lastWatch.ws = contextID, watchSlot{w: w, since: since}
	return true
}

// spillWatch moves lastWatch into the table and the registry, and reports
// false when the table is full.
func spillWatch() bool {
	if !watches.init {
		watches.init = true
		watches.free = make([]uint16, watchCap)
		for i := range watches.free {
			watches.free[i] = uint16(watchCap - 1 - i)
		}
	}
	n := len(watches.free)
	if n == 0 {
		return false
	}
	slot := watches.free[n-1]
	watches.free = watches.free[:n-1]
	watches.slots[slot] = lastWatch.ws
	streams.put(lastWatch.id, streamEntry{quiet: true, watch: slot + 1})
	lastWatch.id, lastWatch.ws = 0, watchSlot{}
	return true
}

// unwatch forgets watched stream id: in lastWatch when watch is 0, else in
// table slot watch-1. It returns its watch. Like Release, it leaves the
// stream's remaining callbacks to the quiet fast paths.
func unwatch(id uint32, watch uint16) watchSlot {
	var ws watchSlot
	if watch == 0 {
		ws = lastWatch.ws
		lastWatch.id, lastWatch.ws = 0, watchSlot{}
	} else {
		slot := watch - 1
		ws = watches.slots[slot]
		watches.slots[slot] = watchSlot{}
		watches.free = append(watches.free, slot) // never past watchCap: it is fixed
		streams.remove(id)
		lastStream.id, lastStream.e = 0, streamEntry{}
	}
	lastQuiet, lastQuietFiled = id, false
	return ws
}

// runWatch calls the watcher of stream id (see unwatch) at its response
// headers, under recovery like any callback that runs plugin code.
func runWatch(id uint32, watch uint16) {
	ws := unwatch(id, watch)
	enter()
	defer func() {
		if v := recover(); v != nil {
			recovered(id, "proxy_on_response_headers", v)
		}
		leave()
	}()
	ws.w.OnWatchedResponse(ws.since)
}

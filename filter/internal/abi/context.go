package abi

import "strconv"

// RootContext is a plugin context: one per plugin configuration. Envoy keeps
// several alive in one VM during a config push (the new one serving, the old
// one draining), so everything per configuration hangs off a RootContext and
// never off package variables.
type RootContext interface {
	// OnVMStart answers proxy_on_vm_start; false refuses the VM.
	OnVMStart(vmConfigSize int) bool
	// OnConfigure answers proxy_on_configure; false refuses the
	// configuration and Envoy keeps the previous one.
	OnConfigure(pluginConfigSize int) bool
	// OnTick answers proxy_on_tick.
	OnTick()
	// OnDone answers proxy_on_done; false means the context still has work
	// and will call Done later.
	OnDone() bool
	// OnDelete answers proxy_on_delete; the context is gone afterwards.
	OnDelete()
	// NewStream creates the context of an HTTP stream whose parent is this
	// root context. Returning nil leaves the stream untouched.
	NewStream(contextID uint32) StreamContext
}

// StreamContext is an HTTP stream context. Envoy ends every stream with
// OnLog, OnDone, then OnDelete.
type StreamContext interface {
	OnRequestHeaders(numHeaders int, endOfStream bool) Action
	OnRequestBody(bodySize int, endOfStream bool) Action
	OnRequestTrailers(numTrailers int) Action
	OnResponseHeaders(numHeaders int, endOfStream bool) Action
	OnResponseBody(bodySize int, endOfStream bool) Action
	OnResponseTrailers(numTrailers int) Action
	OnLog()
	OnDone()
	OnDelete()
}

// The registry the ABI forces on a guest: the host names contexts by id and
// the guest must find its objects again. Only touched from callbacks, which
// the host never runs concurrently within one VM.
var (
	rootFactory func(contextID uint32) RootContext
	panicHook   func(contextID uint32)
	roots       = map[uint32]RootContext{}
	streams     idTable[streamEntry] // see table.go for why not a map
	depth       int                  // nesting of callbacks, see memory.go
)

// SetRootFactory registers the constructor of root contexts. Call it from an
// init function of package main: it must not call host functions, since
// Envoy allows only proxy_log during _initialize.
func SetRootFactory(f func(contextID uint32) RootContext) { rootFactory = f }

// SetPanicHook registers a function called after a callback panicked and the
// panic was logged (Nedry counts nedry.errors there). The hook runs with its
// own recovery, so a panic inside it is logged and dropped.
func SetPanicHook(f func(contextID uint32)) { panicHook = f }

// SetRequestTrailersHook registers a function called at the request
// trailers of every stream that has any, before the stream's own
// OnRequestTrailers: quiet streams and streams without a context included,
// whose trailer callbacks never reach plugin code otherwise. Nedry strips
// its control headers from request trailers there. Streams without
// trailers never pay for it: Envoy calls proxy_on_request_trailers only
// when a request has trailers, and the hook only runs when it counts some.
// The hook runs under its own recovery (a panic is logged and the panic
// hook called); the callback goes on as if it had not been there.
func SetRequestTrailersHook(f func()) { requestTrailersHook = f }

var requestTrailersHook func()

// runRequestTrailersHook runs the hook for stream contextID. Like any
// callback, it may use transient memory: that memory is out of use once
// the hook returns.
func runRequestTrailersHook(contextID uint32) {
	enter()
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_request_trailers", v)
		}
		leave()
	}()
	requestTrailersHook()
}

// Root returns the root context registered under id, or nil.
func Root(id uint32) RootContext { return roots[id] }

// enter starts a callback. The outermost one recycles the arena: every
// transient result of the previous callbacks is out of use by now.
func enter() {
	if depth == 0 {
		resetArena()
	}
	depth++
}

// leave ends a callback. The outermost one drops every pin left behind, so a
// host that allocated outside a wrapped host call cannot make pins pile up.
func leave() {
	depth--
	if depth <= 0 {
		depth = 0
		unpin(0)
		collectLarge()
	}
}

// Recovered reports a panic recovered while working on contextID inside
// callback, exactly as the exports do for their own: an error log with the
// context id and the panic, then the panic hook. The plugin uses it where it
// recovers closer to the fault (one stream among several resumed by a tick).
func Recovered(contextID uint32, callback string, v any) { recovered(contextID, callback, v) }

// recovered logs a panic that a callback caught, with the context id, and
// calls the hook. It must not panic itself: it runs inside a deferred
// function, and a panic there would trap the VM for every stream on it.
func recovered(contextID uint32, callback string, v any) {
	defer func() { _ = recover() }()
	var why string
	switch x := v.(type) {
	case string:
		why = x
	case error:
		why = x.Error()
	default:
		why = "non-error panic value"
	}
	_ = Log(LogLevelError, "nedry: recovered panic in "+callback+" (context "+
		strconv.FormatUint(uint64(contextID), 10)+"): "+why)
	if panicHook != nil {
		panicHook(contextID)
	}
}

func rootOrCreate(id uint32) RootContext {
	r := roots[id]
	if r == nil && rootFactory != nil {
		r = rootFactory(id)
		if r != nil {
			roots[id] = r
		}
	}
	return r
}

// streamEntry is a registered stream context and whether it went quiet;
// a watched stream (see Watch) has no context, and its watch slot + 1.
type streamEntry struct {
	s     StreamContext
	quiet bool
	watch uint16
}

// lastStream caches the entry of the latest lookup. A stream's callbacks
// mostly come in a row (request headers, then its response, then log, done
// and delete), and even the table lookup costs more in wasm than a compare.
var lastStream struct {
	id uint32
	e  streamEntry
}

// lookupStream returns the entry registered under id (zero when none). It
// runs outside the exports' panic recovery, so it must not panic.
func lookupStream(id uint32) streamEntry {
	if lastStream.e.s != nil && lastStream.id == id {
		return lastStream.e
	}
	e, _ := streams.get(id)
	if e.s != nil {
		lastStream.id, lastStream.e = id, e
	}
	return e
}

// liveStream returns the entry of stream id for a callback that may run
// plugin code: ok false when the callback is to be answered without it (a
// quiet stream, or one the registry does not know). A pending stream (its
// first callback) is not filed yet, so it is answered without a registry
// lookup: the host names a new stream with an id no live stream has, and
// that first lookup missed on every stream.
func liveStream(id uint32) (e streamEntry, ok bool) {
	if id == pending.id {
		return streamEntry{}, id != 0
	}
	e = lookupStream(id)
	return e, e.s != nil && !e.quiet
}

// stream returns the stream context registered under id, or nil.
func stream(id uint32) StreamContext { return lookupStream(id).s }

// Quiet tells the layer that stream contextID needs none of its remaining
// callbacks: the layer then answers request and response callbacks with
// Continue, proxy_on_log with nothing and proxy_on_done with true, without
// entering plugin code. Most streams have nothing left to do once their
// request headers are decided (no rule matched, no fault drawn, an abort
// already answered), and in Go on wasm a callback that enters plugin code
// under panic recovery costs some 100 ns even when it does nothing, four or
// five times per stream. A stream cannot leave quiet.
//
// It reports whether the layer holds no reference to the stream's context:
// a stream that goes quiet in its first callback is never filed (see
// pending), so the plugin may reuse its context at once, and the layer
// never calls it again, proxy_on_delete included. Otherwise the context
// still gets OnDelete.
func Quiet(contextID uint32) (released bool) {
	lastQuiet = contextID
	e := streams.ptr(contextID)
	lastQuietFiled = e != nil
	if e == nil {
		return true
	}
	e.quiet = true
	if lastStream.id == contextID {
		lastStream.e.quiet = true
	}
	return false
}

// Release tells the layer that the plugin is finished with stream
// contextID before the stream ends: the layer forgets its context, answers
// its remaining callbacks as for a quiet stream, and never calls the
// context again, proxy_on_delete included, so the plugin may reuse it at
// once. A control request of a guarded rule is decided at its response
// headers; releasing it there spares its proxy_on_delete the plugin code
// under panic recovery (BenchmarkTimed/guarded). Callbacks of a released
// id that come out of order find no context, and do nothing.
func Release(contextID uint32) {
	streams.remove(contextID)
	lastStream.id, lastStream.e, lastQuiet, lastQuietFiled = 0, streamEntry{}, contextID, false
}

// lastQuiet is the stream that went quiet last, or 0. The exports compare
// against it first, inline: a quiet stream's remaining callbacks nearly
// always follow its request headers in a row, and in wasm even the cached
// registry lookup is a call.
var lastQuiet uint32

// lastQuietFiled says whether the registry holds lastQuiet (it went quiet
// after its first callback). Most streams go quiet in their first callback
// and are never filed: their proxy_on_delete then needs no registry lookup
// to know it (see unfiledQuiet).
var lastQuietFiled bool

// quiet reports whether the callbacks of stream id are answered without the
// plugin (see Quiet). Like lookupStream, it must not panic.
func quiet(id uint32) bool { return lookupStream(id).quiet }

// lastRoot caches the root of the latest stream creation: nearly every
// stream has the root that serves the current configuration as its parent.
var lastRoot struct {
	id uint32
	r  RootContext
}

// parentRoot returns the root context registered under id, or nil.
func parentRoot(id uint32) RootContext {
	if lastRoot.r != nil && lastRoot.id == id {
		return lastRoot.r
	}
	r := roots[id]
	if r != nil {
		lastRoot.id, lastRoot.r = id, r
	}
	return r
}

// pending is a stream whose creation the host announced but whose plugin
// context is not created yet. Envoy calls proxy_on_context_create and the
// stream's first HTTP callback back to back, so proxy_on_context_create only
// notes the stream here, without running plugin code, and the first HTTP
// callback creates the context (openPending) and files it afterwards
// (fileOpened) unless the stream went quiet meanwhile: most streams never
// touch the registry, and their proxy_on_delete needs no plugin code. One
// slot is enough; an announcement while it is taken creates and files the
// context at once, the old way.
var pending struct {
	id   uint32
	root RootContext
}

// announceStream notes stream id of root parent in the pending slot. It
// reports false when the slot is taken: the caller then creates the
// context now, under recovery. A stream of an unknown root is dropped (its
// callbacks leave it untouched). It runs no plugin code and must not panic.
func announceStream(id, parent uint32) bool {
	if pending.id != 0 {
		return false
	}
	r := parentRoot(parent)
	if r == nil || id == 0 {
		return true
	}
	forgetQuiet(id)
	pending.id, pending.root = id, r
	return true
}

// forgetQuiet clears lastQuiet when the host reuses its id for a new stream.
func forgetQuiet(id uint32) {
	if id == lastQuiet {
		lastQuiet = 0
	}
}

// fileStream files s as the context of stream id, and caches the entry.
func fileStream(id uint32, s StreamContext) {
	e := streamEntry{s: s}
	streams.put(id, e)
	lastStream.id, lastStream.e = id, e
}

// openPending creates the plugin context of pending stream id. It runs
// plugin code: only under recovery.
func openPending(id uint32) StreamContext {
	r := pending.root
	if id == 0 || id != pending.id || r == nil {
		return nil
	}
	pending.id, pending.root = 0, nil
	return r.NewStream(id)
}

// fileOpened files s, which openPending created for id, after its first
// callback, unless the stream went quiet in it (see Quiet). It runs no
// plugin code.
func fileOpened(id uint32, s StreamContext) {
	if s != nil && lastQuiet != id && lastWatch.id != id {
		fileStream(id, s)
	}
}

// dropPending forgets the pending stream: it ended before any HTTP
// callback, so the plugin never saw it.
func dropPending() { pending.id, pending.root = 0, nil }

// unfiledQuiet reports whether stream id is the last one that went quiet
// and the registry does not hold it: its proxy_on_delete needs nothing.
func unfiledQuiet(id uint32) bool {
	return id == lastQuiet && id != 0 && !lastQuietFiled
}

func onContextCreate(id, parent uint32) {
	if parent == 0 {
		rootOrCreate(id)
		return
	}
	r := parentRoot(parent)
	if r == nil {
		return
	}
	forgetQuiet(id)
	if s := r.NewStream(id); s != nil {
		fileStream(id, s)
	}
}

func onDone(id uint32) bool {
	if e := lookupStream(id); e.s != nil {
		if !e.quiet {
			e.s.OnDone()
		}
		return true
	}
	if r := roots[id]; r != nil {
		return r.OnDone()
	}
	return true
}

func onLog(id uint32) {
	if e := lookupStream(id); e.s != nil && !e.quiet {
		e.s.OnLog()
	}
}

func onDelete(id uint32) {
	e := lookupStream(id)
	if id == lastWatch.id || e.watch != 0 {
		// Watched, it ended before its response headers (a client
		// reset): it is not counted.
		unwatch(id, e.watch)
		lastQuiet = 0
		return
	}
	if s := e.s; s != nil {
		streams.remove(id)
		lastStream.id, lastStream.e = 0, streamEntry{}
		if lastQuiet == id {
			lastQuiet = 0
		}
		s.OnDelete()
		return
	}
	if r := roots[id]; r != nil {
		if pending.root == r {
			dropPending()
		}
		delete(roots, id)
		if lastRoot.id == id {
			lastRoot.id, lastRoot.r = 0, nil
		}
		r.OnDelete()
	}
}

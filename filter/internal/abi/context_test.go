package abi

import (
	"reflect"
	"testing"
)

// fakeRoot and fakeStream record the callbacks the registry routes to them.
type fakeRoot struct {
	id     uint32
	calls  *[]string
	doneOK bool
}

func (r *fakeRoot) OnVMStart(int) bool   { return true }
func (r *fakeRoot) OnConfigure(int) bool { return true }
func (r *fakeRoot) OnTick()              {}
func (r *fakeRoot) OnDone() bool {
	*r.calls = append(*r.calls, "root done")
	return r.doneOK
}
func (r *fakeRoot) OnDelete() { *r.calls = append(*r.calls, "root delete") }
func (r *fakeRoot) NewStream(id uint32) StreamContext {
	*r.calls = append(*r.calls, "new stream")
	return &fakeStream{calls: r.calls}
}

type fakeStream struct{ calls *[]string }

func (s *fakeStream) OnRequestHeaders(int, bool) Action  { return ActionPause }
func (s *fakeStream) OnRequestBody(int, bool) Action     { return ActionContinue }
func (s *fakeStream) OnRequestTrailers(int) Action       { return ActionContinue }
func (s *fakeStream) OnResponseHeaders(int, bool) Action { return ActionContinue }
func (s *fakeStream) OnResponseBody(int, bool) Action    { return ActionContinue }
func (s *fakeStream) OnResponseTrailers(int) Action      { return ActionContinue }
func (s *fakeStream) OnLog()                             { *s.calls = append(*s.calls, "stream log") }
func (s *fakeStream) OnDone()                            { *s.calls = append(*s.calls, "stream done") }
func (s *fakeStream) OnDelete()                          { *s.calls = append(*s.calls, "stream delete") }

// resetRegistry empties the registry and its caches after a test.
func resetRegistry() {
	SetRootFactory(nil)
	clear(roots)
	streams = idTable[streamEntry]{}
	lastStream.id, lastStream.e = 0, streamEntry{}
	lastRoot.id, lastRoot.r = 0, nil
	lastQuiet = 0
}

func TestRegistry_lifecycle(t *testing.T) {
	var calls []string
	SetRootFactory(func(id uint32) RootContext { return &fakeRoot{id: id, calls: &calls} })
	t.Cleanup(resetRegistry)

	onContextCreate(1, 0)
	onContextCreate(5, 0) // a second root in the same VM, as during a push
	onContextCreate(2, 1)
	onContextCreate(3, 99) // unknown parent: ignored, never a panic
	if Root(1) == nil || Root(5) == nil || Root(1) == Root(5) {
		t.Fatalf("want two distinct roots, have %v and %v", Root(1), Root(5))
	}
	if _, ok := streams.get(3); ok {
		t.Fatal("a stream of an unknown root was registered")
	}
	if e, _ := streams.get(2); stream(2) == nil || stream(2) != e.s {
		t.Fatal("stream(2): want the registered stream")
	}
	onLog(2)
	if !onDone(2) {
		t.Fatal("stream proxy_on_done must answer true")
	}
	onDelete(2)
	if _, ok := streams.get(2); ok || stream(2) != nil {
		t.Fatal("stream still registered after proxy_on_delete")
	}
	if onDone(1) {
		t.Fatal("root proxy_on_done must pass on the root's false")
	}
	onDelete(1)
	if Root(1) != nil {
		t.Fatal("root still registered after proxy_on_delete")
	}
	// The deleted root must not live on in the parent cache.
	onContextCreate(6, 1)
	if stream(6) != nil {
		t.Fatal("a stream was created for a deleted root")
	}
	want := []string{"new stream", "stream log", "stream done", "stream delete", "root done", "root delete"}
	if !reflect.DeepEqual(calls, want) {
		t.Fatalf("want callbacks %q, have %q", want, calls)
	}
}

func TestRegistry_rootCreatedOnDemand(t *testing.T) {
	n := 0
	SetRootFactory(func(id uint32) RootContext { n++; return &fakeRoot{id: id, calls: new([]string)} })
	t.Cleanup(func() {
		SetRootFactory(nil)
		clear(roots)
	})
	// Envoy may call proxy_on_vm_start / proxy_on_configure for a root it
	// created before the guest saw proxy_on_context_create.
	a := rootOrCreate(7)
	b := rootOrCreate(7)
	if a == nil || a != b || n != 1 {
		t.Fatalf("want one root created once, have %v %v after %d creations", a, b, n)
	}
}

// A quiet stream's log and done callbacks never reach the plugin, its delete
// still does, and quiet is per stream: the neighbour keeps every callback.
// Marking an unknown stream or a root is a no-op.
func TestRegistry_quiet(t *testing.T) {
	var calls []string
	SetRootFactory(func(id uint32) RootContext { return &fakeRoot{id: id, calls: &calls} })
	t.Cleanup(resetRegistry)
	onContextCreate(1, 0)
	onContextCreate(2, 1)
	onContextCreate(3, 1) // the cache now holds 3: Quiet(2) must reach the table
	if !Quiet(99) || !Quiet(1) {
		t.Fatal("Quiet of an id the registry does not hold must report the context released")
	}
	if Quiet(2) {
		t.Fatal("Quiet of a filed stream must keep its context for OnDelete")
	}
	if !quiet(2) || quiet(3) || quiet(1) || quiet(99) {
		t.Fatalf("quiet: want only stream 2, have 2:%v 3:%v root:%v unknown:%v", quiet(2), quiet(3), quiet(1), quiet(99))
	}
	// The exports' inline check names the last stream that went quiet,
	// never an unknown one or a root.
	if lastQuiet != 2 {
		t.Fatalf("lastQuiet: have %d, want 2", lastQuiet)
	}
	onLog(2)
	if !onDone(2) {
		t.Fatal("a quiet stream's proxy_on_done must answer true")
	}
	onLog(3)
	onDone(3)
	onDelete(2)
	onDelete(3)
	want := []string{"new stream", "new stream", "stream log", "stream done", "stream delete", "stream delete"}
	if !reflect.DeepEqual(calls, want) {
		t.Fatalf("want callbacks %q, have %q", want, calls)
	}
	if lastQuiet != 0 {
		t.Fatalf("lastQuiet still %d after its stream was deleted", lastQuiet)
	}
	// A new stream reusing a deleted id starts out loud, also when a host
	// that never deletes streams (proxytest) reuses the last quiet id.
	onContextCreate(2, 1)
	onContextCreate(4, 1)
	Quiet(4)
	onContextCreate(4, 1)
	if quiet(2) || quiet(4) || lastQuiet != 0 {
		t.Fatalf("a new stream under a reused id inherited quiet: 2:%v 4:%v lastQuiet %d", quiet(2), quiet(4), lastQuiet)
	}
}

// A stream's creation is only noted; its first HTTP callback creates the
// plugin context, which is filed afterwards unless the stream went quiet in
// it; a stream that ends before any HTTP callback never reaches the plugin.
// A second announcement while one is pending falls back to creating at once.
func TestRegistry_pending(t *testing.T) {
	var calls []string
	SetRootFactory(func(id uint32) RootContext { return &fakeRoot{id: id, calls: &calls} })
	t.Cleanup(func() {
		resetRegistry()
		dropPending()
	})
	onContextCreate(1, 0)
	if !announceStream(2, 1) || pending.id != 2 || len(calls) != 0 {
		t.Fatalf("announce: pending %d, calls %q", pending.id, calls)
	}
	if announceStream(3, 1) {
		t.Fatal("a second announcement must report the slot taken")
	}
	if openPending(3) != nil || openPending(0) != nil {
		t.Fatal("only the pending stream may be opened")
	}
	s := openPending(2)
	if s == nil || pending.id != 0 || stream(2) != nil {
		t.Fatalf("openPending: stream %v, pending %d, filed %v", s, pending.id, stream(2))
	}
	fileOpened(2, s)
	if stream(2) != s {
		t.Fatal("an opened stream that did not go quiet must be filed")
	}
	// One that goes quiet in its first callback is never filed, and its
	// delete needs nothing.
	announceStream(4, 1)
	s4 := openPending(4)
	if !Quiet(4) {
		t.Fatal("Quiet in the first callback must release the context")
	}
	fileOpened(4, s4)
	if stream(4) != nil || !unfiledQuiet(4) {
		t.Fatal("a stream quiet in its first callback must not be filed")
	}
	if unfiledQuiet(2) {
		t.Fatal("a filed stream is not unfiled")
	}
	if !announceStream(5, 99) || pending.id != 0 {
		t.Fatal("a stream of an unknown root must be dropped, not pending")
	}
	// A root deleted while one of its streams is pending takes it along.
	announceStream(6, 1)
	onDelete(1)
	if pending.id != 0 {
		t.Fatal("the pending stream of a deleted root is still pending")
	}
	if want := []string{"new stream", "new stream", "root delete"}; !reflect.DeepEqual(calls, want) {
		t.Fatalf("want callbacks %q, have %q", want, calls)
	}
}

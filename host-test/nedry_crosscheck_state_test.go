package hosttest_test

import (
	"context"
	"io"
	"log"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// TestCrossCheck_sharedData runs the shared-data guest's steps (the ones
// of the harness's TestSharedData, on one worker) under this harness and
// under proxytest, and compares the status of each proxy_set_shared_data
// and what proxy_get_shared_data then returns. Nedry itself touches shared
// data only from the tick of a guarded rule, after reading the wall clock
// with proxy_get_current_time_nanoseconds, which proxytest lacks: so the
// cross-check runs the tiny guest instead.
//
// Where proxytest departs from cpp-host's src/shared_data.cc the step pins
// both answers (theirs), so a change on either side is noticed:
//   - cpp-host writes unconditionally when cas is 0; proxytest v0.24.0
//     (ProxySetSharedData in proxytest/root.go) compares the key's cas with
//     0 and answers CasMismatch;
//   - cpp-host's cas comes from one counter for the whole store, so every
//     write of any key advances it; proxytest keeps one per key and sets a
//     new key's cas to the one the guest passed plus one.
//
// Filter state (proxy_set_property) is not cross-checked: proxytest stores
// the path bytes the guest passes, as Envoy does, but its GetProperty reads
// only serialized paths (each segment followed by a NUL), so a test cannot
// read back the "nedry" Nedry sets.
func TestCrossCheck_sharedData(t *testing.T) {
	wasm, err := hosttest.LoadFile(hosttest.RepoPath("build", "guests", "shareddata.wasm"))
	if err != nil {
		t.Fatalf("load guest (make guests): %v", err)
	}
	steps := []struct {
		name    string
		headers [][2]string
		// want is x-set-status and x-got under the harness (and Envoy);
		// theirs, when set, is proxytest's known different answer.
		want, theirs [2]string
	}{
		{"missing key", [][2]string{{"x-get", "k"}}, [2]string{"", "!1"}, [2]string{}},
		{"create with cas 0", [][2]string{{"x-set", "k=a@0"}, {"x-get", "k"}}, [2]string{"0", "a@1"}, [2]string{}},
		{"write with the current cas", [][2]string{{"x-set", "k=b@1"}, {"x-get", "k"}}, [2]string{"0", "b@2"}, [2]string{}},
		{"stale cas", [][2]string{{"x-set", "k=c@1"}, {"x-get", "k"}}, [2]string{"8", "b@2"}, [2]string{}},
		{"cas 0 overwrites", [][2]string{{"x-set", "k=d@0"}, {"x-get", "k"}}, [2]string{"0", "d@3"}, [2]string{"8", "b@2"}},
		{"create ignores cas", [][2]string{{"x-set", "j=v@99"}, {"x-get", "j"}}, [2]string{"0", "v@4"}, [2]string{"0", "v@100"}},
		{"another key's write advances the cas", [][2]string{{"x-set", "k=e@3"}, {"x-get", "k"}}, [2]string{"0", "e@5"}, [2]string{"8", "b@2"}},
	}

	h, err := hosttest.New(context.Background(), wasm, hosttest.Options{})
	if err != nil {
		t.Fatalf("hosttest.New: %v", err)
	}
	defer h.Close(context.Background())

	if !testing.Verbose() {
		prev := log.Writer()
		log.SetOutput(io.Discard)
		defer log.SetOutput(prev)
	}
	start, err := crossRenameExport(wasm, "_initialize", "_start")
	if err != nil {
		t.Fatalf("rename _initialize to _start: %v", err)
	}
	vm, err := proxytest.NewWasmVMContext(start)
	if err != nil {
		t.Fatalf("proxytest.NewWasmVMContext: %v", err)
	}
	defer vm.Close()
	pt, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().WithVMContext(vm))
	defer reset()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("proxytest: guest failed: %v", p)
		}
	}()
	if st := pt.StartVM(); st != types.OnVMStartStatusOK {
		t.Fatalf("proxytest: proxy_on_vm_start returned %v", st)
	}
	if st := pt.StartPlugin(); st != types.OnPluginStartStatusOK {
		t.Fatalf("proxytest: proxy_on_configure returned %v", st)
	}

	answer := func(headers [][2]string) [2]string {
		var a [2]string
		for _, kv := range headers {
			switch kv[0] {
			case "x-set-status":
				a[0] = kv[1]
			case "x-got":
				a[1] = kv[1]
			}
		}
		return a
	}
	for _, s := range steps {
		r := h.Do(hosttest.Request{Headers: append([][2]string{{":method", "GET"}, {":path", "/"}}, s.headers...)})
		if r.Trap != nil || r.Upstream == nil {
			t.Fatalf("hosttest %s: trap %v, upstream reached %v", s.name, r.Trap, r.Upstream != nil)
		}
		ours := answer(r.Upstream.Headers)

		id := pt.InitializeHttpContext()
		pt.CallOnRequestHeaders(id, append([][2]string{{":method", "GET"}, {":path", "/"}}, s.headers...), true)
		theirs := answer(pt.GetCurrentRequestHeaders(id))
		pt.CompleteHttpContext(id)

		if ours != s.want {
			t.Errorf("%s: hosttest x-set-status, x-got %q, want %q", s.name, ours, s.want)
		}
		wantTheirs := s.want
		if s.theirs != ([2]string{}) {
			wantTheirs = s.theirs
		}
		if theirs != wantTheirs {
			t.Errorf("%s: proxytest x-set-status, x-got %q, want %q", s.name, theirs, wantTheirs)
		}
	}
}

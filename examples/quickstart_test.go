package examples

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// TestQuickstart_demo drives quickstart.json through build/nedry.wasm the way
// the curl commands printed by make run do, so the demo cannot silently stop
// showing an abort, a delay and a corrupted header.
func TestQuickstart_demo(t *testing.T) {
	cfg, err := os.ReadFile("quickstart.json")
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := hosttest.LoadFile(hosttest.RepoPath("build", "nedry.wasm"))
	if err != nil {
		t.Fatalf("load filter: %v (run make build)", err)
	}
	ctx := context.Background()
	h, err := hosttest.New(ctx, wasm, hosttest.Options{PluginConfig: cfg, Seed: 1})
	if err != nil {
		t.Fatalf("start filter with quickstart.json: %v", err)
	}
	t.Cleanup(func() { h.Close(ctx) })

	get := func(path string, headers ...[2]string) hosttest.Result {
		return h.Do(hosttest.Request{Headers: append([][2]string{{":path", path}}, headers...)})
	}

	t.Run("abort", func(t *testing.T) {
		r := get("/abort")
		if r.Upstream != nil || r.Response == nil || r.Response.Status != 503 {
			t.Fatalf("want a local 503 that never reaches the upstream, have %+v", r)
		}
		if !strings.Contains(string(r.Response.Body), "nedry fault: abort") {
			t.Errorf("body: have %q", r.Response.Body)
		}
		if tag := r.Header("x-nedry-fault"); !strings.HasPrefix(tag, "abort_demo") {
			t.Errorf("x-nedry-fault: want the rule name abort_demo, have %q", tag)
		}
	})

	t.Run("delay", func(t *testing.T) {
		r := get("/delay")
		if r.Upstream == nil || r.Response == nil || r.Response.Status != 200 {
			t.Fatalf("want the upstream's 200 after the delay, have %+v", r)
		}
		// fixed 1s, jitter 200ms; the tick (5ms) may add one period.
		if r.Held < 800*time.Millisecond || r.Held > 1200*time.Millisecond+5*time.Millisecond {
			t.Errorf("held %v, want within 1s ± 200ms", r.Held)
		}
	})

	t.Run("corrupt", func(t *testing.T) {
		const auth = "Bearer demo"
		r := get("/corrupt", [2]string{"authorization", auth})
		if r.Upstream == nil || r.Response == nil {
			t.Fatalf("want the request upstream, have %+v", r)
		}
		if seen, _ := r.Upstream.Header("authorization"); seen == auth || len(seen) != len(auth) {
			t.Errorf("upstream authorization: want a garbled %d-byte value, have %q", len(auth), seen)
		}
		if ct := r.Header("content-type"); ct != "application/x-nedry-corrupted" {
			t.Errorf("content-type: want application/x-nedry-corrupted, have %q", ct)
		}
	})

	t.Run("no rule", func(t *testing.T) {
		r := get("/plain")
		if r.Upstream == nil || r.Response == nil || r.Response.Status != 200 || r.Header("x-nedry-fault") != "" || r.Held != 0 {
			t.Fatalf("want an untouched request, have %+v", r)
		}
	})

	t.Run("beta header", func(t *testing.T) {
		// 50% abort: over n requests the count must be within 5 sigma.
		const n = 400
		aborted := 0
		for i := 0; i < n; i++ {
			if r := get("/plain", [2]string{"x-group", "beta"}); r.Response != nil && r.Response.Status == 500 {
				aborted++
			}
		}
		if aborted < n/2-50 || aborted > n/2+50 {
			t.Errorf("aborted %d of %d beta requests, want %d ± 50 (5 sigma)", aborted, n, n/2)
		}
	})
}

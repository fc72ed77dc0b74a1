package hosttest_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// soakConfig is one generation of the soak's configuration: every fault
// kind, both delay phases and header control. Generations differ in rates,
// timing and one rule name, so pushes change what streams see.
func soakConfig(gen int) string {
	pct := []int{50, 30}[gen%2]
	tick := []string{"1ms", "2ms"}[gen%2]
	last := []string{"tail_a", "tail_b"}[gen%2]
	return fmt.Sprintf(`{"seed": %d, "tick": %q, "max_active_faults": 150,
	"header_control": {"enabled": true, "max_delay": "5ms"},
	"rules": [
	{"name": "abort", "match": {"prefix": "/a"}, "abort": {"percent": %d, "http_status": 503, "grpc_status": 14, "body": "soak", "headers": {"retry-after": "1"},
		"ramp": {"to": %[3]d, "over": "1h", "steps": 1}}},
	{"name": "delay", "match": {"prefix": "/d"}, "delay": {"percent": 60, "fixed": "3ms", "jitter": "2ms"}, "abort": {"percent": 10},
		"active": {"after": "2020-01-01T00:00:00Z"}, "halt": {"max_error_percent": 100, "min_requests": 10}},
	{"name": "resp", "match": {"prefix": "/r"}, "delay": {"percent": %d, "fixed": "2ms", "phase": "response"},
		"corrupt": {"percent": 50, "response": [{"op": "garble", "name": "content-type"}, {"op": "status", "value": 502}]}},
	{"name": "corrupt", "match": {"prefix": "/c"}, "corrupt": {"percent": 80, "request": [{"op": "garble", "name": "x-id"},
		{"op": "set", "name": "x-set", "value": "v"}, {"op": "remove", "name": "cookie"}, {"op": "truncate", "name": "x-long", "length": 4}]}},
	{"name": "reset", "match": {"prefix": "/x"}, "reset": {"percent": 30}, "delay": {"percent": 30, "fixed": "2ms"}},
	{"name": %q, "match": {"prefix": "/t", "headers": [{"name": "x-group", "exact": "beta"}]}, "delay": {"percent": 100, "fixed": "1ms"}}
	]}`, gen+1, tick, pct, pct, last)
}

// soakRequests is NEDRY_SOAK_REQUESTS, 20,000 when unset (make test sets
// 100,000 and make soak 1,000,000).
func soakRequests(t *testing.T) int {
	v := os.Getenv("NEDRY_SOAK_REQUESTS")
	if v == "" {
		return 20_000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1000 {
		t.Fatalf("NEDRY_SOAK_REQUESTS=%q: want an integer >= 1000", v)
	}
	return n
}

// TestSoak mixes every rule, client resets (before and during delays) and
// config pushes (accepted and refused, while streams are held) over two
// workers driven concurrently. At the end: no trap, no stream open or
// paused, the gauge at 0, every match counted, guest memory within 16 MiB
// per VM and exactly as large as after warm-up.
func TestSoak(t *testing.T) {
	const (
		workers   = 2
		batch     = 200 // requests per round, half per worker
		pushEvery = 10_000
	)
	// The guest reaches its working set during the first requests (reused
	// buffers, recycled stream contexts, maps as large as the most streams
	// held at once), so memory is compared from the end of a warm-up of the
	// same mix to the end of the NEDRY_SOAK_REQUESTS requests that follow
	// it: the request path allocates nothing after that.
	const warmup = 100_000
	n := warmup + soakRequests(t)
	h := newNedry(t, soakConfig(0), hosttest.Options{Workers: workers, LogLevel: hosttest.LogLevelInfo})
	kinds := []string{"/a", "/d", "/r", "/c", "/x", "/t", "/none", "/hc", "/d-reset-early", "/d-reset-late"}
	var (
		sent, ruled, controlled int
		pushes, refused, gen    int
		clientResets            int
		memWarm                 [workers]uint32
		start                   = time.Now()
		roundStreams            [workers][]*hosttest.Stream
		roundKinds              [workers][]string
	)
	for sent < n {
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				roundStreams[w], roundKinds[w] = roundStreams[w][:0], roundKinds[w][:0]
				for i := 0; i < batch/workers; i++ {
					k := kinds[(sent/workers+i+w)%len(kinds)]
					req := hosttest.Request{Worker: w, WorkerSet: true, Headers: [][2]string{
						{":method", "POST"}, {":path", strings.TrimSuffix(strings.TrimSuffix(k, "-reset-early"), "-reset-late") + "/x?i=" + strconv.Itoa(i)},
						{"content-type", "application/grpc"}, {"x-id", "0123456789"}, {"x-long", "abcdefgh"}, {"cookie", "a=b"}, {"x-group", "beta"}}}
					switch k {
					case "/hc":
						req.Headers = append(req.Headers, [2]string{"x-nedry-delay-ms", "3"}, [2]string{"x-nedry-abort", "429"})
					case "/d-reset-early":
						req.ResetAt = hosttest.ResetAfterRequestHeaders
					}
					if i%3 == 0 {
						req.Body = []byte("body")
						req.Trailers = [][2]string{{"x-t", "1"}}
					}
					roundStreams[w] = append(roundStreams[w], h.Start(req))
					roundKinds[w] = append(roundKinds[w], k)
				}
			}(w)
		}
		wg.Wait()
		h.Advance(time.Millisecond)
		// Client resets while delays hold streams.
		for w := range roundStreams {
			for i, s := range roundStreams[w] {
				if roundKinds[w][i] == "/d-reset-late" && !s.Done() {
					s.Reset()
					clientResets++
				}
			}
		}
		sent += batch
		// Config pushes while streams are still held.
		if sent%pushEvery == 0 {
			pushes++
			if pushes%3 == 0 {
				if err := h.Reconfigure([]byte(`{"rules": [{"name": "bad", "abort": {"percent": 101}}]}`)); err == nil {
					t.Fatal("an invalid push was accepted")
				}
				refused++
			} else {
				gen++
				if err := h.Reconfigure([]byte(soakConfig(gen))); err != nil {
					t.Fatalf("push %d: %v", pushes, err)
				}
			}
		}
		h.Advance(20 * time.Millisecond)
		for w := range roundStreams {
			for i, s := range roundStreams[w] {
				k := roundKinds[w][i]
				if !s.Done() {
					t.Fatalf("request %s on worker %d still open after the round", k, w)
				}
				r := s.Result()
				if r.Trap != nil {
					t.Fatalf("request %s: trap: %v", k, r.Trap)
				}
				if r.Upstream != nil {
					if _, ok := r.Upstream.Header("x-nedry-delay-ms"); ok {
						t.Fatalf("request %s: x-nedry-delay-ms reached the upstream", k)
					}
				}
				switch k {
				case "/none":
				case "/hc":
					controlled++
				default:
					ruled++
				}
			}
		}
		if sent == warmup {
			for w := range memWarm {
				memWarm[w] = h.MemorySize(w)
			}
		}
	}
	elapsed := time.Since(start)
	noTrap(t, h)
	settled(t, h)
	var matched int64
	for name, m := range h.Metrics() {
		if strings.HasPrefix(name, "nedry.rule.") && strings.HasSuffix(name, ".matched") {
			matched += m.Value
		}
	}
	// Every request sent to a rule's path went through its decision, a
	// client reset right after request headers included; /hc requests are
	// header control's.
	if matched != int64(ruled) {
		t.Errorf("rule matches: have %d, want %d", matched, ruled)
	}
	wantMetrics(t, h, map[string]int64{"nedry.header_control.matched": int64(controlled)})
	wantMetrics(t, h, map[string]int64{"nedry.config_rejected": int64(refused), "nedry.errors": 0})
	var grew []string
	for w := range memWarm {
		if have := h.MemorySize(w); have > 16<<20 {
			t.Errorf("worker %d guest memory: %d bytes, over the 16 MiB budget per VM", w, have)
		}
		if have := h.MemorySize(w); have != memWarm[w] {
			grew = append(grew, fmt.Sprintf("worker %d: %d bytes after %d requests, %d at the end", w, memWarm[w], warmup, have))
		}
	}
	t.Logf("soak: %d requests (%d warm-up), %d pushes (%d refused), %d client resets mid-delay, %v (%.1f µs/request); memory after warm-up %d/%d, at end %d/%d",
		sent, warmup, pushes, refused, clientResets, elapsed.Round(time.Millisecond), float64(elapsed.Microseconds())/float64(sent),
		memWarm[0], memWarm[1], h.MemorySize(0), h.MemorySize(1))
	if len(grew) > 0 {
		// The request path allocates nothing in the guest and each
		// configuration push collects its own garbage, so linear memory
		// must not grow once warm (wasm memory never shrinks).
		t.Errorf("guest memory not flat after warm-up: %s", strings.Join(grew, "; "))
	}
}

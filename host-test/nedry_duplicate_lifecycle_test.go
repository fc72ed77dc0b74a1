package hosttest_test

import (
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// The duplicate fault's lifetime: copies outliving the original, sticky
// draws, pushes and the kill switch while copies are pending, and the cost
// left to streams a duplicate does not concern (helpers in
// nedry_duplicate_test.go).

// TestDuplicate_outlivesOriginal: the original ended (stream deleted) long
// before its copies are due; they still go out, from the root context.
func TestDuplicate_outlivesOriginal(t *testing.T) {
	h := dupHost(t, dupConfig(`{"percent": 100, "copies": 2, "after": "2s"}`), 200, time.Millisecond)
	res := h.Do(payment([]byte(`{"a":1}`)))
	if res.Response == nil || h.ActiveStreams() != 0 {
		t.Fatalf("the original must be over: %d streams alive", h.ActiveStreams())
	}
	h.Advance(1900 * time.Millisecond)
	if n := len(h.HTTPCalls()); n != 0 {
		t.Fatalf("%d copies before after", n)
	}
	h.Advance(3 * time.Second)
	if n := len(h.HTTPCalls()); n != 2 {
		t.Fatalf("%d copies, want 2 after the original ended", n)
	}
}

// TestDuplicate_notDrawn: a duplicate of percent 0, an abort or a reset of
// the same request (which never reaches the upstream) and dry run send no
// copy.
func TestDuplicate_notDrawn(t *testing.T) {
	tests := []struct{ name, cfg string }{
		{"percent 0", dupConfig(`{"percent": 0}`)},
		{"abort", `{"rules": [{"name": "p", "abort": {"percent": 100}, "duplicate": {"percent": 100}}]}`},
		{"reset", `{"rules": [{"name": "p", "reset": {"percent": 100}, "duplicate": {"percent": 100}}]}`},
		{"dry run", `{"dry_run": true, "rules": [{"name": "p", "duplicate": {"percent": 100}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := dupHost(t, tt.cfg, 200, time.Millisecond)
			h.Do(payment([]byte(`{}`)))
			h.Advance(time.Second)
			if n := len(h.HTTPCalls()); n != 0 {
				t.Fatalf("%d copies, want none", n)
			}
		})
	}
}

// TestDuplicate_sticky: with sample_by, a user is always duplicated or
// never, and about percent of the users are.
func TestDuplicate_sticky(t *testing.T) {
	cfg := `{"seed": 7, "rules": [{"name": "p", "sample_by": {"header": "x-user"}, "duplicate": {"percent": 30, "after": "0s"}}]}`
	h := dupHost(t, cfg, 200, time.Millisecond)
	const users = 400
	in := 0
	for u := 0; u < users; u++ {
		user := "user-" + strconv.Itoa(u)
		var first int
		for i := 0; i < 3; i++ {
			before := len(h.HTTPCalls())
			h.Do(payment(nil, "x-user", user))
			h.Advance(10 * time.Millisecond)
			n := len(h.HTTPCalls()) - before
			if i == 0 {
				first = n
			} else if n != first {
				t.Fatalf("%s: %d copies on request %d, %d on the first", user, n, i, first)
			}
		}
		in += first
	}
	// 30% of 400 users, sigma 9.2: within 5 sigma.
	if in < 74 || in > 166 {
		t.Fatalf("%d of %d users duplicated, want about 120", in, users)
	}
}

// TestDuplicate_push: copies pending when a new configuration is pushed are
// still sent by the old root context at their time, and answered: Envoy
// keeps a root whose proxy_on_done answered false until it calls
// proxy_done, and deleting it earlier would cancel its calls. The old root
// goes once they are done; the new configuration's rule has no duplicate.
func TestDuplicate_push(t *testing.T) {
	var mu sync.Mutex
	deletes := 0 // proxy_on_delete calls: streams, and the old root at the end
	h := newNedry(t, dupConfig(`{"percent": 100, "copies": 2, "after": "1s"}`), hosttest.Options{
		Properties: map[string]string{"xds.cluster_name": "backend"},
		Clusters:   map[string]hosttest.Cluster{"backend": {Latency: 500 * time.Millisecond}},
		CallObserver: func(export string, _ time.Duration) {
			if export == "proxy_on_delete" {
				mu.Lock()
				deletes++
				mu.Unlock()
			}
		},
	})
	deleted := func() int {
		mu.Lock()
		defer mu.Unlock()
		return deletes
	}
	h.Do(payment([]byte(`{"a":1}`)))
	if err := h.Reconfigure([]byte(`{"rules": [{"name": "p", "abort": {"percent": 0}}]}`)); err != nil {
		t.Fatal(err)
	}
	h.Do(payment([]byte(`{"a":2}`)))
	streamsOnly := deleted()
	// The second copy leaves at 2s and is answered at 2.5s: until then the
	// old root stays.
	h.Advance(2400 * time.Millisecond)
	if n := deleted(); n != streamsOnly {
		t.Fatalf("the old root was deleted with a copy in flight (%d deletes, %d before)", n, streamsOnly)
	}
	h.Advance(time.Second)
	if n := deleted(); n != streamsOnly+1 {
		t.Fatalf("%d deletes once the copies were answered, want %d: the old root must go", n, streamsOnly+1)
	}
	calls := h.HTTPCalls()
	if len(calls) != 2 {
		t.Fatalf("%d copies, want the old configuration's 2", len(calls))
	}
	for i, c := range calls {
		if c.Outcome != "response" || string(c.Request.Body) != `{"a":1}` {
			t.Fatalf("copy %d: outcome %q body %q", i, c.Outcome, c.Request.Body)
		}
	}
	if have, want := dupCounts(h), [4]int64{2, 0, 0, 0}; have != want {
		t.Fatalf("sent, failed, too large, dropped: have %v, want %v", have, want)
	}
}

// TestDuplicate_killSwitch: copies not sent yet are dropped when the kill
// switch is pushed, and counted.
func TestDuplicate_killSwitch(t *testing.T) {
	h := dupHost(t, dupConfig(`{"percent": 100, "copies": 3, "after": "1s"}`), 200, time.Millisecond)
	h.Do(payment(nil))
	h.Advance(1100 * time.Millisecond)
	if err := h.Reconfigure([]byte(`{"enabled": false}`)); err != nil {
		t.Fatal(err)
	}
	h.Advance(5 * time.Second)
	if have, want := dupCounts(h), [4]int64{1, 0, 0, 2}; have != want {
		t.Fatalf("sent, failed, too large, dropped: have %v, want %v", have, want)
	}
}

// TestDuplicate_quietStreams: a stream whose duplicate was not drawn, and a
// stream no duplicate rule matched, make the host calls and callbacks of a
// header rule's stream that drew nothing: the cost stays with duplicated
// requests.
func TestDuplicate_quietStreams(t *testing.T) {
	const cfg = `{"seed": 1, "rules": [
		{"name": "never", "match": {"prefix": "/never"}, "duplicate": {"percent": 0}},
		{"name": "plain", "match": {"prefix": "/plain"}, "abort": {"percent": 0}}]}`
	h := dupHost(t, cfg, 200, time.Millisecond)
	calls := func(path string) (uint64, []string) {
		req := hosttest.Request{Headers: payment(nil).Headers, Chunks: [][]byte{[]byte(`{"a":`), []byte(`1}`)}}
		req.Headers[1][1] = path
		c0 := h.HostCalls()
		r := h.Do(req)
		if string(r.Upstream.Body) != `{"a":1}` {
			t.Fatalf("%s: body changed", path)
		}
		return h.HostCalls() - c0, r.Callbacks
	}
	calls("/plain")
	plain, plainCBs := calls("/plain")
	never, neverCBs := calls("/never")
	other, _ := calls("/other")
	if never != plain || other > plain {
		t.Fatalf("host calls: duplicate rule not drawn %d, header rule %d, no match %d", never, plain, other)
	}
	if !slices.Equal(neverCBs, plainCBs) {
		t.Fatalf("callbacks:\nduplicate rule %v\nheader rule %v", neverCBs, plainCBs)
	}
	h.Advance(time.Second)
	if n := len(h.HTTPCalls()); n != 0 {
		t.Fatalf("%d copies", n)
	}
}

// TestDuplicate_killSwitchMidBody: a request still passing when the kill
// switch comes is not duplicated, whether it ends with its body or with
// trailers. The request is held by a delay at its headers, its copy begun;
// the kill switch releases it and its body passes after.
func TestDuplicate_killSwitchMidBody(t *testing.T) {
	const cfg = `{"rules": [{"name": "p", "delay": {"percent": 100, "fixed": "10s"},
		"duplicate": {"percent": 100, "copies": 2, "after": "0s"}}]}`
	for _, trailers := range []bool{false, true} {
		t.Run("trailers="+strconv.FormatBool(trailers), func(t *testing.T) {
			h := dupHost(t, cfg, 200, time.Millisecond)
			r := hosttest.Request{Headers: payment(nil).Headers, Chunks: [][]byte{[]byte(`{"a":`), []byte(`1}`)}}
			if trailers {
				r.Trailers = [][2]string{{"x-sum", "1"}}
			}
			s := h.Start(r)
			if !s.Paused() {
				t.Fatal("the request must be held at its headers")
			}
			if err := h.Reconfigure([]byte(`{"enabled": false}`)); err != nil {
				t.Fatal(err)
			}
			h.Advance(time.Second)
			if !s.Done() || s.Result().Upstream == nil {
				t.Fatal("the released request must go upstream")
			}
			if n := len(h.HTTPCalls()); n != 0 {
				t.Fatalf("%d copies after the kill switch", n)
			}
			if have, want := dupCounts(h), [4]int64{0, 0, 0, 2}; have != want {
				t.Fatalf("sent, failed, too large, dropped: have %v, want %v", have, want)
			}
		})
	}
}

package main

import (
	"crypto/sha256"
	"net/http"
	"strconv"
	"sync"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// The demo upstream as a service without idempotency: it processes every
// request it gets, and says when it has already processed the same one, so
// a request Nedry duplicated (the duplicate fault) shows as a repeat.
const (
	// demoIdempotencyKey names a request: two requests with the same value
	// are the same request, whatever their method, path or body.
	demoIdempotencyKey = "idempotency-key"
	// demoRepeat is the response header of a repeat: how many times the
	// demo had already processed this request within demoRepeatWindow.
	demoRepeat = "x-demo-repeat"
	// demoRepeatWindow is how long a request is remembered, from the
	// first time the demo saw it.
	demoRepeatWindow = time.Minute
	// demoMaxRemembered bounds the memory: past it the oldest request is
	// forgotten first (a few hundred bytes each).
	demoMaxRemembered = 10_000
)

// demoRepeats remembers the requests the demo processed in the last
// demoRepeatWindow. Every entry lives for the same window from its first
// sighting, so first-sighting order is expiry order: a FIFO queue expires
// them and enforces the cap without a scan.
type demoRepeats struct {
	mu    sync.Mutex
	count map[string]int // key → times processed
	queue []demoSighting // first sightings, oldest first, from head
	head  int
}

type demoSighting struct {
	key string
	at  time.Time
}

// repeatKey is what names ur: a hash of its idempotency-key when it has
// one (idem is then the key), else of its method, path and body; a hash, so
// an entry takes the same few bytes whatever the client sent. A request
// without a key whose method is safe (GET, HEAD, OPTIONS, TRACE: RFC 9110,
// section 9.2.1) is harmless to repeat and not remembered (ok false).
func repeatKey(ur *hosttest.UpstreamRequest) (key, idem string, ok bool) {
	var method, path string
	for _, kv := range ur.Headers {
		switch kv[0] {
		case demoIdempotencyKey:
			sum := sha256.Sum256([]byte(kv[1]))
			return "key " + string(sum[:]), kv[1], true
		case ":method":
			method = kv[1]
		case ":path":
			path = kv[1]
		}
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return "", "", false
	}
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(ur.Body)
	return "hash " + string(h.Sum(nil)), "", true
}

// seen records one processing of key at now and returns how many times it
// was processed before within the window (0: the first time).
func (r *demoRepeats) seen(key string, now time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.count == nil {
		r.count = map[string]int{}
	}
	for r.head < len(r.queue) && now.Sub(r.queue[r.head].at) >= demoRepeatWindow {
		r.forgetOldest()
	}
	before := r.count[key]
	if before == 0 {
		for len(r.count) >= demoMaxRemembered {
			r.forgetOldest()
		}
		r.queue = append(r.queue, demoSighting{key, now})
	}
	r.count[key] = before + 1
	return before
}

// forgetOldest drops the oldest remembered request. Holds mu.
func (r *demoRepeats) forgetOldest() {
	delete(r.count, r.queue[r.head].key)
	r.queue[r.head] = demoSighting{}
	r.head++
	if r.head > len(r.queue)/2 {
		// Compact, so the queue's array is bounded by the cap too.
		r.queue = append(r.queue[:0], r.queue[r.head:]...)
		r.head = 0
	}
}

// repeatNote is the echo's note for a request processed n times before;
// idem is its idempotency-key, if it has one.
func repeatNote(idem string, n int) string {
	what := "this request (same method, path and body)"
	if idem != "" {
		what = demoIdempotencyKey + " " + strconv.Quote(idem)
	}
	times := "once"
	if n > 1 {
		times = strconv.Itoa(n) + " times"
	}
	return "repeat: " + what + " was already processed " + times + " in the last " + demoRepeatWindow.String() +
		" and is processed again, as a service without idempotency does"
}

package main

import (
	"context"
	"encoding/json"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

func demoRequest(hdr ...string) *hosttest.UpstreamRequest {
	ur := &hosttest.UpstreamRequest{Headers: [][2]string{{":method", "GET"}, {":path", "/api/x"}}}
	for i := 0; i+1 < len(hdr); i += 2 {
		ur.Headers = append(ur.Headers, [2]string{hdr[i], hdr[i+1]})
	}
	return ur
}

// x-demo-error-percent fails exactly that share of the requests carrying
// it; invalid values are ignored.
func TestDemo_errorPercent(t *testing.T) {
	tests := []struct {
		value string
		want  int // 503s out of 200
	}{
		{"0", 0}, {"1", 2}, {"25", 50}, {"100", 200}, {"101", 0}, {"-5", 0}, {"x", 0},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			d := newDemoService()
			have := 0
			for i := 0; i < 200; i++ {
				r, err := d.serve(context.Background(), demoRequest(demoErrorPercent, tc.value))
				if err != nil {
					t.Fatal(err)
				}
				if r.Status == 503 {
					have++
				}
			}
			if have != tc.want {
				t.Fatalf("%s: %s: have %d 503s out of 200, want %d", demoErrorPercent, tc.value, have, tc.want)
			}
		})
	}
}

// x-demo-breaks-at fails requests while the share of matched requests
// Nedry failed over the last demoWindow, read from its counters once a
// second, is above the header's value.
func TestDemo_breaksAt(t *testing.T) {
	clock := time.Date(2026, 6, 5, 10, 0, 0, 0, time.UTC)
	var aborts, resets, matched int64
	d := newDemoService()
	d.now = func() time.Time { return clock }
	d.setMetrics(func() map[string]hosttest.Metric {
		return map[string]hosttest.Metric{
			"nedry.rule.bp.aborts_injected": {Value: aborts},
			"nedry.rule.bp.resets_injected": {Value: resets},
			"nedry.rule.bp.matched":         {Value: matched},
			"nedry.rule.bp.delays_injected": {Value: matched}, // delays fail nothing
		}
	})
	status := func() int {
		r, err := d.serve(context.Background(), demoRequest(demoBreaksAt, "20"))
		if err != nil {
			t.Fatal(err)
		}
		return r.Status
	}
	steps := []struct {
		name                    string
		advance                 time.Duration
		aborts, resets, matched int64 // added before the request
		want                    int
	}{
		{"first reading: no share yet", 0, 0, 0, 0, 200},
		{"10% failed", time.Second, 10, 0, 100, 200},
		{"within the second: the cached share", 500 * time.Millisecond, 100, 0, 100, 200},
		{"aborts and resets above 20%", 500 * time.Millisecond, 50, 30, 100, 503},
		{"no more failures: share falls out of the window", 6 * time.Second, 0, 0, 100, 200},
	}
	for _, s := range steps {
		clock = clock.Add(s.advance)
		aborts, resets, matched = aborts+s.aborts, resets+s.resets, matched+s.matched
		if have := status(); have != s.want {
			t.Fatalf("%s: status %d, want %d (share %.1f%%)", s.name, have, s.want, d.share)
		}
	}
}

// x-demo-latency waits before answering, bounded by the request's context.
func TestDemo_latency(t *testing.T) {
	d := newDemoService()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.serve(ctx, demoRequest(demoLatency, "1h")); err == nil {
		t.Fatal("a canceled request waited out its latency")
	}
	r, err := d.serve(context.Background(), demoRequest(demoLatency, "bogus"))
	if err != nil || r.Status != 200 {
		t.Fatalf("invalid latency: %v, %v; want it ignored", r, err)
	}
}

// TestRun_breakingPoint watches a ramped abort with a guardrail find the
// breaking point of the demo upstream over loopback HTTP: the demo breaks
// once Nedry fails more than 30% of the traffic, the rule halts and says
// at which rate, the admin endpoints show the halt, and the rule resumes
// after its cooldown, which nedry run prints too.
func TestRun_breakingPoint(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "bp.json", `{"rules": [{"name": "bp", "match": {"prefix": "/api/"},
	  "abort": {"percent": 10, "http_status": 503, "ramp": {"to": 40, "over": "2s", "steps": 2}},
	  "halt": {"max_error_percent": 5, "window": "2s", "min_requests": 20, "cooldown": "2s"}}]}`)
	n := startNedry(t, "--demo", "--config", cfg)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	c := client()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := do(c, "GET", n.url("/api/orders"), map[string]string{demoBreaksAt: "30"}, nil)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	defer wg.Wait()
	defer close(stop)

	halt := regexp.MustCompile(`nedry: wasm error: rule bp: halted for 2s: error share \S+ of \d+ control requests over 2s, above 5%; abort rate at halt 40%`)
	n.stderr.waitFor(t, 0, halt, 30*time.Second)
	_, _, stats := get(t, client(), "GET", "http://"+n.admin+"/stats", nil)
	for _, want := range []string{"nedry.rule.bp.halts: 1\n", "nedry.rule.bp.halted: 1\n", "nedry.rule.bp.abort_rate_ppm: 400000\n"} {
		if !strings.Contains(stats, want) {
			t.Errorf("/stats lacks %q:\n%s", want, stats)
		}
	}
	_, _, prom := get(t, client(), "GET", "http://"+n.admin+"/stats/prometheus", nil)
	for _, want := range []string{"# TYPE nedry_rule_halted gauge\n", `nedry_rule_halted{nedry_rule="bp"} 1` + "\n",
		`nedry_rule_halts{nedry_rule="bp"} 1` + "\n"} {
		if !strings.Contains(prom, want) {
			t.Errorf("/stats/prometheus lacks %q:\n%s", want, prom)
		}
	}
	n.stdout.waitFor(t, 0, regexpQuote("nedry: wasm info: rule bp: resumed after the halt's cooldown"), 20*time.Second)
}

// TestRun_expiryPrinted: nedry run prints the expiry when it happens, and
// /stats shows nedry.expired.
func TestRun_expiryPrinted(t *testing.T) {
	at := time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	cfg := writeFile(t, t.TempDir(), "exp.json", `{"expires": "`+at+`", "rules": [{"name": "a", "abort": {"percent": 100}}]}`)
	n := startNedry(t, "--demo", "--config", cfg)
	n.stderr.waitFor(t, 0, regexpQuote("nedry: wasm warn: configuration expired at"), 20*time.Second)
	if status, _, _ := get(t, client(), "GET", n.url("/x"), nil); status != 200 {
		t.Errorf("after expiry: status %d, want 200", status)
	}
	_, _, stats := get(t, client(), "GET", "http://"+n.admin+"/stats", nil)
	if !strings.Contains(stats, "nedry.expired: 1\n") {
		t.Errorf("/stats lacks nedry.expired: 1:\n%s", stats)
	}
}

// The demo is a service without idempotency: it processes every request,
// and answers one it already processed within a minute (the same
// idempotency-key, or without one the same method, path and body) with
// x-demo-repeat: N, N the times before, and a note in the echo. Safe
// methods without a key are never repeats.
func TestDemo_repeat(t *testing.T) {
	type send struct {
		method, path, key, body string
		after                   time.Duration // clock advance before it
		want                    int           // x-demo-repeat, 0: none
	}
	tests := []struct {
		name  string
		sends []send
	}{
		{"same key", []send{{"POST", "/payments", "k1", "a", 0, 0}, {"POST", "/payments", "k1", "a", 0, 1}, {"POST", "/payments", "k1", "a", 0, 2}}},
		{"the key alone names it", []send{{"POST", "/payments", "k1", "a", 0, 0}, {"PUT", "/other", "k1", "b", 0, 1}}},
		{"different keys", []send{{"POST", "/payments", "k1", "a", 0, 0}, {"POST", "/payments", "k2", "a", 0, 0}}},
		{"no key: same body", []send{{"POST", "/payments", "", "a", 0, 0}, {"POST", "/payments", "", "a", 0, 1}}},
		{"no key: other body, path or method", []send{{"POST", "/payments", "", "a", 0, 0}, {"POST", "/payments", "", "b", 0, 0},
			{"POST", "/refunds", "", "a", 0, 0}, {"PATCH", "/payments", "", "a", 0, 0}}},
		{"safe methods", []send{{"GET", "/payments", "", "", 0, 0}, {"GET", "/payments", "", "", 0, 0}, {"HEAD", "/x", "", "", 0, 0}, {"HEAD", "/x", "", "", 0, 0}}},
		{"a safe method with a key", []send{{"GET", "/payments", "k1", "", 0, 0}, {"GET", "/payments", "k1", "", 0, 1}}},
		{"a minute from the first sighting", []send{{"POST", "/p", "k1", "", 0, 0}, {"POST", "/p", "k1", "", 59 * time.Second, 1},
			{"POST", "/p", "k1", "", time.Second, 0}, {"POST", "/p", "k1", "", 0, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := time.Date(2026, 6, 5, 10, 0, 0, 0, time.UTC)
			d := newDemoService()
			d.now = func() time.Time { return clock }
			for i, s := range tt.sends {
				clock = clock.Add(s.after)
				ur := &hosttest.UpstreamRequest{Headers: [][2]string{{":method", s.method}, {":path", s.path}}, Body: []byte(s.body)}
				if s.key != "" {
					ur.Headers = append(ur.Headers, [2]string{demoIdempotencyKey, s.key})
				}
				r, err := d.serve(context.Background(), ur)
				if err != nil {
					t.Fatal(err)
				}
				have := r.Header(demoRepeat)
				want := ""
				if s.want > 0 {
					want = strconv.Itoa(s.want)
				}
				var e demoEcho
				if err := json.Unmarshal(r.Body, &e); err != nil {
					t.Fatal(err)
				}
				if have != want || e.Repeat != s.want || (s.want > 0) != strings.HasPrefix(e.Note, "repeat: ") {
					t.Fatalf("request %d: %s %q, echo repeat %d note %q; want %q", i, demoRepeat, have, e.Repeat, e.Note, want)
				}
			}
		})
	}
}

func TestDemo_repeatNote(t *testing.T) {
	tests := []struct {
		key  string
		n    int
		want string
	}{
		{"k1", 1, `repeat: idempotency-key "k1" was already processed once in the last 1m0s and is processed again, as a service without idempotency does`},
		{"", 3, `repeat: this request (same method, path and body) was already processed 3 times in the last 1m0s and is processed again, as a service without idempotency does`},
	}
	for _, tt := range tests {
		if have := repeatNote(tt.key, tt.n); have != tt.want {
			t.Fatalf("have %q, want %q", have, tt.want)
		}
	}
}

// The demo remembers at most demoMaxRemembered requests: one more makes it
// forget the oldest, and its memory stays bounded however many arrive.
func TestDemo_repeatBounded(t *testing.T) {
	var r demoRepeats
	now := time.Date(2026, 6, 5, 10, 0, 0, 0, time.UTC)
	for i := range 3 * demoMaxRemembered {
		if n := r.seen(strconv.Itoa(i), now); n != 0 {
			t.Fatalf("key %d: seen %d times before, want 0", i, n)
		}
		if len(r.count) > demoMaxRemembered || cap(r.queue) > 3*demoMaxRemembered {
			t.Fatalf("after %d keys: %d remembered, queue capacity %d", i+1, len(r.count), cap(r.queue))
		}
	}
	if n := r.seen(strconv.Itoa(3*demoMaxRemembered-1), now); n != 1 {
		t.Fatalf("the newest key: seen %d times before, want 1", n)
	}
	if n := r.seen("0", now); n != 0 {
		t.Fatalf("the oldest key: seen %d times before, want 0 (forgotten)", n)
	}
}

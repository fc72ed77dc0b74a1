package hosttest_test

import (
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// at parses an RFC 3339 time for the virtual clock.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// aborted reports whether a GET of path was answered by a Nedry abort.
func aborted(t testing.TB, h *hosttest.Host, path string, headers ...string) bool {
	t.Helper()
	r, _ := run(h, get("GET", path, headers...))
	return r.LocalReply != nil
}

// Expiry takes effect at its exact instant, also for header-requested faults
// and for requests no tick came between; it is logged at warn once and shown
// by nedry.expired. After it nothing is counted as matched, as with enabled
// false.
func TestSchedule_expiresAtInstant(t *testing.T) {
	cfg := `{"expires": "2026-12-24T18:00:00Z", "header_control": {"enabled": true},
	  "rules": [{"name": "a", "abort": {"percent": 100}}]}`
	// Ticks come every second from the push, 0.3s off the expiry instant:
	// a request at that instant sees it before any tick does.
	h := newNedry(t, cfg, hosttest.Options{Start: at(t, "2026-12-24T17:59:50.3Z")})
	if !aborted(t, h, "/") || h.Metric("nedry.expired") != 0 {
		t.Fatalf("before expiry: want an abort and nedry.expired 0, have %d", h.Metric("nedry.expired"))
	}
	h.Advance(at(t, "2026-12-24T17:59:59.999999999Z").Sub(h.Now()))
	if !aborted(t, h, "/") {
		t.Fatal("one nanosecond before expiry: no abort")
	}
	h.Advance(time.Nanosecond)
	if aborted(t, h, "/") || aborted(t, h, "/", "x-nedry-abort", "500") {
		t.Fatal("at the expiry instant: still injecting")
	}
	h.Advance(time.Minute)
	if aborted(t, h, "/") {
		t.Fatal("after expiry: still injecting")
	}
	wantMetrics(t, h, map[string]int64{"nedry.expired": 1, "nedry.rule.a.matched": 2, "nedry.rule.a.aborts_injected": 2})
	var warns []string
	for _, l := range h.Logs() {
		if l.Level == hosttest.LogLevelWarn {
			warns = append(warns, l.Message)
		}
	}
	want := "nedry: configuration expired at 2026-12-24T18:00:00Z: nothing is injected until a new configuration is pushed"
	if len(warns) != 1 || warns[0] != want {
		t.Fatalf("warn logs %q, want once %q", warns, want)
	}
	// A push without expires clears the gauge and injects again.
	if err := h.Reconfigure([]byte(`{"rules": [{"name": "a", "abort": {"percent": 100}}]}`)); err != nil {
		t.Fatal(err)
	}
	if !aborted(t, h, "/") || h.Metric("nedry.expired") != 0 {
		t.Fatalf("after a push without expires: want an abort and nedry.expired 0, have %d", h.Metric("nedry.expired"))
	}
	noTrap(t, h)
}

// A configuration already expired when pushed is accepted (Envoy must not
// reject it for that), warned about, and injects nothing.
func TestSchedule_alreadyExpired(t *testing.T) {
	h := newNedry(t, `{"expires": "2026-01-01T00:00:00Z", "rules": [{"name": "a", "abort": {"percent": 100}}]}`,
		hosttest.Options{Start: at(t, "2026-03-01T00:00:00Z")})
	if aborted(t, h, "/") {
		t.Fatal("expired configuration injected")
	}
	if !hasLog(h.Logs(), hosttest.LogLevelWarn, "configuration expired at 2026-01-01T00:00:00Z") ||
		h.Metric("nedry.expired") != 1 {
		t.Fatalf("want a warn log and nedry.expired 1; gauge %d", h.Metric("nedry.expired"))
	}
}

// windowConfig has a windowed rule and a catch-all after it, which the
// windowed rule shadows even when it is outside its window.
func windowConfig(active string) string {
	return `{"rules": [
	  {"name": "w", "match": {"prefix": "/w"}, "active": ` + active + `, "abort": {"percent": 100, "http_status": 503}},
	  {"name": "all", "abort": {"percent": 100, "http_status": 418}}]}`
}

// status returns the status the client saw for GET path.
func status(h *hosttest.Host, path string) int {
	r, _ := run(h, get("GET", path))
	if r.Response == nil {
		return 0
	}
	return r.Response.Status
}

// Windows evaluated at push time, one fresh host per instant: days and hours
// read on the utc_offset clock, wrapping hours belonging to the day they
// start on, after/before bounds.
func TestSchedule_windowAtPush(t *testing.T) {
	business := `{"days": ["mon","tue","wed","thu","fri"], "hours": "09:00-17:00", "utc_offset": "+01:00"}`
	night := `{"days": ["fri"], "hours": "22:00-02:00"}`
	bounded := `{"after": "2026-06-05T10:00:00Z", "before": "2026-06-05T11:00:00-00:00"}`
	// 2026-06-05 is a Friday.
	tests := []struct {
		name, active, now string
		want              int
	}{
		{"business 07:59 utc is 08:59 local", business, "2026-06-05T07:59:59Z", 200},
		{"business 08:00 utc is 09:00 local", business, "2026-06-05T08:00:00Z", 503},
		{"business 15:59 utc", business, "2026-06-05T15:59:59Z", 503},
		{"business 16:00 utc is 17:00 local", business, "2026-06-05T16:00:00Z", 200},
		{"business saturday", business, "2026-06-06T10:00:00Z", 200},
		{"business sunday 23:30 utc is monday 00:30 local", business, "2026-06-07T23:30:00Z", 200},
		{"business monday 08:00 utc", business, "2026-06-08T08:00:00Z", 503},
		{"night friday 22:00", night, "2026-06-05T22:00:00Z", 503},
		{"night saturday 01:59", night, "2026-06-06T01:59:59Z", 503},
		{"night saturday 02:00", night, "2026-06-06T02:00:00Z", 200},
		{"night friday 01:00 belongs to thursday", night, "2026-06-05T01:00:00Z", 200},
		{"bounded before after", bounded, "2026-06-05T09:59:59Z", 200},
		{"bounded at after", bounded, "2026-06-05T10:00:00Z", 503},
		{"bounded at before", bounded, "2026-06-05T11:00:00Z", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newNedry(t, windowConfig(tt.active), hosttest.Options{Start: at(t, tt.now)})
			if have := status(h, "/w"); have != tt.want {
				t.Fatalf("status %d, want %d (200: the rule matched and injected nothing)", have, tt.want)
			}
			if tt.want == 200 {
				// Inactive, it still matched: the catch-all never saw it.
				wantMetrics(t, h, map[string]int64{"nedry.rule.w.matched": 1, "nedry.rule.w.active": 0,
					"nedry.rule.all.matched": 0})
			} else {
				wantMetrics(t, h, map[string]int64{"nedry.rule.w.active": 1})
			}
			if status(h, "/other") != 418 {
				t.Fatal("the catch-all does not serve other paths")
			}
		})
	}
}

// The window opens and closes at the exact instants while the clock runs
// across midnight and a weekday boundary, with the slow tick refreshing it.
func TestSchedule_windowWalk(t *testing.T) {
	h := newNedry(t, windowConfig(`{"days": ["fri"], "hours": "22:00-02:00", "utc_offset": "-02:00"}`),
		// Ticks 0.4s off the boundaries: requests see them first.
		hosttest.Options{Start: at(t, "2026-06-05T23:00:00.4Z")}) // Friday 21:00 local
	steps := []struct {
		to   string
		want int
	}{
		{"2026-06-05T23:59:59.999999999Z", 200}, // 21:59:59.999999999 local
		{"2026-06-06T00:00:00Z", 503},           // Friday 22:00 local
		{"2026-06-06T02:00:00Z", 503},           // local midnight: Saturday 00:00, still Friday's window
		{"2026-06-06T03:59:59Z", 503},
		{"2026-06-06T04:00:00Z", 200}, // Saturday 02:00 local
		{"2026-06-07T00:00:00Z", 200}, // Saturday 22:00 local: not a window day
	}
	for _, s := range steps {
		h.Advance(at(t, s.to).Sub(h.Now()))
		if have := status(h, "/w"); have != s.want {
			t.Fatalf("at %s: status %d, want %d", s.to, have, s.want)
		}
		wantGauge := int64(0)
		if s.want == 503 {
			wantGauge = 1
		}
		if g := h.Metric("nedry.rule.w.active"); g != wantGauge {
			t.Fatalf("at %s: nedry.rule.w.active %d, want %d", s.to, g, wantGauge)
		}
	}
	noTrap(t, h)
}

// Windows, ramps and guardrails on other rules put no host call on the
// path of a request that matches no rule or an untimed, unguarded rule, and
// a timed rule far from a change reads no clock.
func TestSchedule_noCallsForOtherTraffic(t *testing.T) {
	plain := `{"rules": [{"name": "a", "match": {"prefix": "/a"}, "abort": {"percent": 0}},
	  {"name": "b", "match": {"prefix": "/b"}, "abort": {"percent": 0}}]}`
	timed := `{"rules": [{"name": "a", "match": {"prefix": "/a"}, "abort": {"percent": 0}},
	  {"name": "b", "match": {"prefix": "/b"}, "active": {"hours": "09:00-17:00"},
	   "abort": {"percent": 0, "ramp": {"to": 50, "over": "1h", "steps": 4}}},
	  {"name": "c", "match": {"prefix": "/c"}, "abort": {"percent": 0}, "halt": {"max_error_percent": 5}}]}`
	calls := func(cfg, path string) uint64 {
		h := newNedry(t, cfg, hosttest.Options{Start: at(t, "2026-06-05T10:00:00Z")})
		run(h, get("GET", path)) // warm up
		before := h.HostCalls()
		for i := 0; i < 20; i++ {
			run(h, get("GET", path))
		}
		return h.HostCalls() - before
	}
	for _, path := range []string{"/none", "/a"} {
		if p, tm := calls(plain, path), calls(timed, path); p != tm {
			t.Errorf("%s: %d host calls for 20 requests with plain rules, %d with a timed rule elsewhere", path, p, tm)
		}
	}
	// The timed rule itself, away from a change, reads no clock either.
	if p, tm := calls(plain, "/b"), calls(timed, "/b"); p != tm {
		t.Errorf("/b: %d host calls with a plain rule, %d with its window and ramp (no change near)", p, tm)
	}
}

// At expiry the streams the configuration's delays hold are let go within
// one tick, without the abort they were delayed for.
func TestSchedule_expiryReleasesHeld(t *testing.T) {
	h := newNedry(t, `{"tick": "5ms", "expires": "2026-12-24T18:00:00Z", "rules": [{"name": "d",
	  "delay": {"percent": 100, "fixed": "1h"}, "abort": {"percent": 100}}]}`,
		hosttest.Options{Start: at(t, "2026-12-24T17:59:59.5Z")})
	s := h.Start(get("GET", "/"))
	h.Advance(at(t, "2026-12-24T17:59:59.999Z").Sub(h.Now()))
	if s.Done() {
		t.Fatal("released before expiry")
	}
	h.Advance(at(t, "2026-12-24T18:00:00.005Z").Sub(h.Now()))
	if !s.Done() {
		t.Fatal("still held one tick after expiry")
	}
	if r := s.Result(); r.LocalReply != nil || r.Upstream == nil || r.Held != 500*time.Millisecond {
		t.Fatalf("released stream: local reply %v, upstream reached %v, held %v", r.LocalReply, r.Upstream != nil, r.Held)
	}
	settled(t, h)
	noTrap(t, h)
}

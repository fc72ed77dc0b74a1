package hosttest_test

import (
	"math"
	"strconv"
	"strings"
	"testing"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// Sticky sampling (sample_by) through the compiled filter. The rules run in
// dry run so every drawn fault of a stream shows in its debug logs, the
// kinds one by one, without the faults themselves getting in the way.

// sampleConfig is a dry-run rule drawing all four kinds from sample.
func sampleConfig(seed int, sample string) string {
	return `{"seed": ` + strconv.Itoa(seed) + `, "dry_run": true, "rules": [{"name": "s", "sample_by": ` + sample + `,
		"delay": {"percent": 5, "fixed": "1s"}, "abort": {"percent": 50},
		"corrupt": {"percent": 50, "request": [{"op": "remove", "name": "x"}]}, "reset": {"percent": 0.5}}]}`
}

// drawn returns the kinds drawn for a stream, from its dry-run logs, such
// as "abort,corrupt".
func drawn(t testing.TB, r hosttest.Result) string {
	t.Helper()
	if r.Trap != nil {
		t.Fatalf("trap: %v", r.Trap)
	}
	var kinds []string
	for _, msg := range logsAt(r.Logs, hosttest.LogLevelDebug) {
		if _, after, ok := strings.Cut(msg, "dry run: "); ok {
			kind, _, _ := strings.Cut(after, " ")
			kinds = append(kinds, kind)
		}
	}
	return strings.Join(kinds, ",")
}

func userRequest(user string) hosttest.Request {
	return get("GET", "/x", "x-user-id", user)
}

// TestSample_share: over 100,000 distinct keys each fault hits its percent
// of keys within 5 sigma, and the kinds of one rule are drawn independently
// for a key (the share hit by two kinds is the product of their shares).
func TestSample_share(t *testing.T) {
	const n = 100000
	h := newNedry(t, sampleConfig(1, `{"header": "x-user-id"}`), hosttest.Options{})
	count := map[string]int{}
	for i := 0; i < n; i++ {
		d := drawn(t, h.Do(userRequest("user-"+strconv.Itoa(i))))
		for _, k := range strings.Split(d, ",") {
			count[k]++
		}
		if strings.Contains(d, "abort,corrupt") {
			count["abort+corrupt"]++
		}
		if strings.Contains(d, "delay") && strings.Contains(d, "abort") {
			count["delay+abort"]++
		}
	}
	for _, c := range []struct {
		what string
		p    float64
	}{
		{"delay", 0.05}, {"abort", 0.5}, {"corrupt", 0.5}, {"reset", 0.005},
		{"abort+corrupt", 0.25}, {"delay+abort", 0.025},
	} {
		mean, sigma := n*c.p, math.Sqrt(n*c.p*(1-c.p))
		if have := float64(count[c.what]); math.Abs(have-mean) > 5*sigma {
			t.Errorf("%s: %v of %d keys, want %.0f ± %.0f (5 sigma)", c.what, have, n, mean, 5*sigma)
		}
	}
	wantMetrics(t, h, map[string]int64{"nedry.rule.s.matched": n, "nedry.rule.s.aborts_injected": int64(count["abort"])})
	noTrap(t, h)
}

// TestSample_sameKeySameDecision: a key gets the same decisions 1,000
// times in a row, on every worker, after a push of the same configuration,
// and on another host whose VMs were seeded differently (keyed draws never
// use host entropy, even with seed 0). Another seed picks another set.
func TestSample_sameKeySameDecision(t *testing.T) {
	const keys = 400
	for _, seed := range []int{0, 77} {
		t.Run("seed "+strconv.Itoa(seed), func(t *testing.T) {
			cfg := sampleConfig(seed, `{"header": "x-user-id"}`)
			h := newNedry(t, cfg, hosttest.Options{Workers: 3})
			other := newNedry(t, cfg, hosttest.Options{Seed: 99})
			want := make([]string, keys)
			for k := range want {
				want[k] = drawn(t, h.Do(userRequest("u"+strconv.Itoa(k))))
			}
			user := -1
			for k, d := range want {
				if strings.Contains(d, "abort") {
					user = k
					break
				}
			}
			if user < 0 {
				t.Fatalf("no key of %d drew an abort at 50%%", keys)
			}
			for i := 0; i < 1000; i++ {
				req := userRequest("u" + strconv.Itoa(user))
				req.Worker, req.WorkerSet = i%3, true
				if have := drawn(t, h.Do(req)); have != want[user] {
					t.Fatalf("request %d on worker %d: drew %q, want %q", i, i%3, have, want[user])
				}
			}
			if err := h.Reconfigure([]byte(cfg)); err != nil {
				t.Fatal(err)
			}
			for k := range want {
				req := userRequest("u" + strconv.Itoa(k))
				if have := drawn(t, h.Do(req)); have != want[k] {
					t.Fatalf("key u%d after a push: drew %q, want %q", k, have, want[k])
				}
				if have := drawn(t, other.Do(req)); have != want[k] {
					t.Fatalf("key u%d on another host: drew %q, want %q", k, have, want[k])
				}
			}
			if err := h.Reconfigure([]byte(sampleConfig(seed+1, `{"header": "x-user-id"}`))); err != nil {
				t.Fatal(err)
			}
			changed := 0
			for k := range want {
				if have := drawn(t, h.Do(userRequest("u"+strconv.Itoa(k)))); strings.Contains(have, "abort") != strings.Contains(want[k], "abort") {
					changed++
				}
			}
			// Half the keys change sides at 50% when the set is drawn anew.
			if mean, sigma := keys*0.5, math.Sqrt(keys*0.25); math.Abs(float64(changed)-mean) > 5*sigma {
				t.Fatalf("seed %d -> %d: %d of %d keys changed abort decision, want %.0f ± %.0f", seed, seed+1, changed, keys, mean, 5*sigma)
			}
		})
	}
}

// TestSample_cookie: the key is one cookie of the cookie header; requests
// whose cookie differs only in other cookies get the same decisions.
func TestSample_cookie(t *testing.T) {
	h := newNedry(t, sampleConfig(5, `{"cookie": "session"}`), hosttest.Options{})
	hdr := newNedry(t, sampleConfig(5, `{"header": "x-user-id"}`), hosttest.Options{})
	for k := 0; k < 200; k++ {
		id := "sess-" + strconv.Itoa(k)
		want := drawn(t, hdr.Do(userRequest(id)))
		for _, cookies := range [][]string{
			{"cookie", "session=" + id},
			{"cookie", "theme=dark; session=" + id + "; lang=en"},
			{"cookie", "theme=dark", "cookie", `session="` + id + `"`},
		} {
			if have := drawn(t, h.Do(get("GET", "/x", cookies...))); have != want {
				t.Fatalf("cookies %q: drew %q, want %q (as the header with the same key)", cookies, have, want)
			}
		}
	}
}

// TestSample_missing: without the key (or with an empty one) a request is
// drawn at random by default and never faulted with "missing": "skip".
func TestSample_missing(t *testing.T) {
	rule := func(missing string) string {
		return `{"seed": 3, "rules": [{"name": "s", "sample_by": {"cookie": "session"` + missing + `}, "abort": {"percent": 100}}]}`
	}
	tests := []struct {
		name, missing string
		headers       []string
		wantStatus    int
	}{
		{"random, no cookie header", ``, nil, 503},
		{"random, other cookies", ``, []string{"cookie", "a=1; sessionx=2"}, 503},
		{"skip, no cookie header", `, "missing": "skip"`, nil, 200},
		{"skip, other cookies", `, "missing": "skip"`, []string{"cookie", "a=1; sessionx=2"}, 200},
		{"skip, empty value", `, "missing": "skip"`, []string{"cookie", "session="}, 200},
		{"skip, key present", `, "missing": "skip"`, []string{"cookie", "session=abc"}, 503},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newNedry(t, rule(tc.missing), hosttest.Options{})
			r, _ := run(h, get("GET", "/x", tc.headers...))
			if r.Response == nil || r.Response.Status != tc.wantStatus {
				t.Fatalf("response %+v, want status %d", r.Response, tc.wantStatus)
			}
			wantMetrics(t, h, map[string]int64{"nedry.rule.s.matched": 1})
			settled(t, h)
		})
	}
}

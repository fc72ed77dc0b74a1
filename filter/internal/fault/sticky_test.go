package fault

import (
	"math"
	"strconv"
	"testing"

	"github.com/nedry-chaos/nedry/filter/internal/config"
)

func TestCookie(t *testing.T) {
	tests := []struct {
		header, name string
		want         string
		found        bool
	}{
		{"session=abc", "session", "abc", true},
		{"a=1; session=abc; b=2", "session", "abc", true},
		{"a=1;session=abc", "session", "abc", true},
		{"a=1 ;\tsession = abc ; b=2", "session", "abc", true},
		{`session="quoted"`, "session", "quoted", true},
		{`session="`, "session", `"`, true},
		{"session=", "session", "", true},
		{"session=a=b", "session", "a=b", true},
		{"session=first; session=second", "session", "first", true},
		{"Session=abc", "session", "", false},
		{"xsession=abc; sessionx=def", "session", "", false},
		{"session; other=1", "session", "", false},
		{"", "session", "", false},
		{";;; ;", "session", "", false},
		{"=abc", "session", "", false},
	}
	for _, tc := range tests {
		have, found := Cookie(tc.header, tc.name)
		if have != tc.want || found != tc.found {
			t.Errorf("Cookie(%q, %q) = %q, %v; want %q, %v", tc.header, tc.name, have, found, tc.want, tc.found)
		}
	}
}

func stickyRule(t *testing.T, cfg string) *config.Rule {
	t.Helper()
	c, err := config.Parse([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return c.Rules[0]
}

// DecideSticky consumes four values whatever the key, so the random
// sequence stays aligned with Decide's: keyed, missing and skipped requests
// leave r where a plain decision would.
func TestDecideSticky_fourDraws(t *testing.T) {
	for _, missing := range []string{"random", "skip"} {
		rule := stickyRule(t, `{"seed": 3, "rules": [{"name": "a", "sample_by": {"header": "x-u", "missing": "`+missing+`"},
			"delay": {"percent": 50, "fixed": "1s", "jitter": "500ms"}, "abort": {"percent": 50}}]}`)
		for _, key := range []struct {
			v  string
			ok bool
		}{{"k", true}, {"", true}, {"", false}} {
			a, b := NewRand(9), NewRand(9)
			decideSticky(rule, a, key.v, key.ok)
			Decide(rule, b)
			if a.Uint64() != b.Uint64() {
				t.Fatalf("missing %s, key %+v: sequence not aligned after one decision", missing, key)
			}
		}
	}
}

// Without a key (or with an empty one) a "random" rule draws exactly what
// Decide draws; a "skip" rule draws nothing.
func TestDecideSticky_missing(t *testing.T) {
	random := stickyRule(t, `{"rules": [{"name": "a", "sample_by": {"header": "x-u"}, "abort": {"percent": 50}, "reset": {"percent": 50}}]}`)
	skip := stickyRule(t, `{"rules": [{"name": "a", "sample_by": {"header": "x-u", "missing": "skip"}, "abort": {"percent": 100}}]}`)
	a, b := NewRand(5), NewRand(5)
	for i := 0; i < 1000; i++ {
		have, want := decideSticky(random, a, "", i%2 == 0), Decide(random, b)
		if have != want {
			t.Fatalf("request %d: have %+v, want %+v", i, have, want)
		}
		if d := decideSticky(skip, a, "", i%2 == 0); d.Any() || d.Rule != skip {
			t.Fatalf("skip request %d: have %+v, want no fault", i, d)
		}
		b.Uint64()
		b.Uint64()
		b.Uint64()
		b.Uint64()
	}
}

// The share of keys hit is percent, within 5 sigma; the kinds are drawn
// independently (the share hit by two kinds is the product); the same key
// always gets the same decision, whatever the random source; another seed
// picks another set of keys.
func TestDecideSticky_statistics(t *testing.T) {
	const n = 100000
	cfg := func(seed int) string {
		return `{"seed": ` + strconv.Itoa(seed) + `, "rules": [{"name": "a", "sample_by": {"cookie": "s"},
			"delay": {"percent": 5, "fixed": "1s"}, "abort": {"percent": 50}, "corrupt": {"percent": 50, "request": [{"op": "remove", "name": "x"}]}, "reset": {"percent": 0.1}}]}`
	}
	rule, other := stickyRule(t, cfg(1)), stickyRule(t, cfg(2))
	r1, r2 := NewRand(1), NewRand(2)
	var delays, aborts, corrupts, both, resets, moved int
	for i := 0; i < n; i++ {
		key := "user-" + strconv.Itoa(i)
		d := decideSticky(rule, r1, key, true)
		if again := decideSticky(rule, r2, key, true); again.Faults() != d.Faults() {
			t.Fatalf("key %s: %v then %v", key, d.Faults(), again.Faults())
		}
		if o := decideSticky(other, r1, key, true); o.Abort != d.Abort {
			moved++
		}
		delays += b2i(d.Delayed)
		aborts += b2i(d.Abort)
		corrupts += b2i(d.Corrupt)
		resets += b2i(d.Reset)
		both += b2i(d.Abort && d.Corrupt)
	}
	for _, c := range []struct {
		what string
		have int
		p    float64
	}{
		{"delay", delays, 0.05}, {"abort", aborts, 0.5}, {"corrupt", corrupts, 0.5},
		{"reset", resets, 0.001}, {"abort and corrupt", both, 0.25}, {"abort changed with the seed", moved, 0.5},
	} {
		mean, sigma := n*c.p, math.Sqrt(n*c.p*(1-c.p))
		if math.Abs(float64(c.have)-mean) > 5*sigma {
			t.Errorf("%s: %d of %d keys, want %.0f ± %.0f (5 sigma)", c.what, c.have, n, mean, 5*sigma)
		}
	}
}

func TestDecideSticky_allocs(t *testing.T) {
	rule := stickyRule(t, `{"rules": [{"name": "a", "sample_by": {"header": "x-u"}, "abort": {"percent": 50}, "delay": {"percent": 50, "fixed": "1s"}}]}`)
	r := NewRand(1)
	if n := testing.AllocsPerRun(100, func() {
		decideSticky(rule, r, "user-42", true)
		Cookie("a=1; s=2", "s")
	}); n != 0 {
		t.Fatalf("allocs per decision: %v, want 0", n)
	}
}

// decideSticky is DecideSticky at the rule's configured rates.
func decideSticky(rule *config.Rule, r *Rand, key string, found bool) Decision {
	rates := rule.Rates()
	return DecideSticky(rule, &rates, r, key, found)
}

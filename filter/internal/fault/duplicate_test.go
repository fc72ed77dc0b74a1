package fault

import (
	"strconv"
	"testing"

	"github.com/nedry-chaos/nedry/filter/internal/config"
)

func duplicateRule(t *testing.T, extra string) *config.Rule {
	t.Helper()
	c, err := config.Parse([]byte(`{"seed": 7, "rules": [{"name": "p", ` + extra + `"abort": {"percent": 50}, "duplicate": {"percent": 50}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return c.Rules[0]
}

func TestDuplicated(t *testing.T) {
	random := duplicateRule(t, "")
	sticky := duplicateRule(t, `"sample_by": {"header": "x-user"}, `)
	skip := duplicateRule(t, `"sample_by": {"header": "x-user", "missing": "skip"}, `)
	tests := []struct {
		name  string
		rule  *config.Rule
		key   string
		found bool
		// want is the share duplicated over 10,000 draws, in percent, or
		// -1 for "the same answer every time".
		lo, hi int
	}{
		{"random", random, "", false, 48, 52},
		{"sticky key", sticky, "user-1", true, -1, -1},
		{"sticky without key draws at random", sticky, "", false, 48, 52},
		{"skip without key", skip, "", false, 0, 0},
		{"skip with empty key", skip, "", true, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRand(1)
			n, first := 0, Duplicated(tt.rule, NewRand(99), tt.key, tt.found)
			for i := 0; i < 10000; i++ {
				before := r.state
				d := Duplicated(tt.rule, r, tt.key, tt.found)
				if r.state != before+0x9e3779b97f4a7c15 {
					t.Fatal("Duplicated must consume exactly one value")
				}
				if tt.lo < 0 && d != first {
					t.Fatalf("draw %d: have %v, want %v every time", i, d, first)
				}
				if d {
					n++
				}
			}
			if tt.lo >= 0 && (n < tt.lo*100 || n > tt.hi*100) {
				t.Fatalf("duplicated %d of 10000, want %d%% to %d%%", n, tt.lo, tt.hi)
			}
		})
	}
}

// TestDuplicated_stickyShare draws 100,000 keys: the share duplicated is
// within 5 sigma of percent, and independent of the abort drawn from the
// same keys.
func TestDuplicated_stickyShare(t *testing.T) {
	rule := duplicateRule(t, `"sample_by": {"header": "x-user"}, `)
	rates := rule.Rates()
	const n = 100000
	dup, both := 0, 0
	r := NewRand(3)
	for i := 0; i < n; i++ {
		key := "user-" + strconv.Itoa(i)
		d := DecideSticky(rule, &rates, r, key, true)
		x := Duplicated(rule, r, key, true)
		if x {
			dup++
			if d.Abort {
				both++
			}
		}
	}
	// sigma of a 50% share over n draws is 0.5*sqrt(n) = 158.
	if dup < n/2-790 || dup > n/2+790 {
		t.Fatalf("duplicated %d of %d keys, want within 5 sigma of 50%%", dup, n)
	}
	// Independent kinds: a quarter of the keys get both, within 5 sigma
	// (0.433*sqrt(n) = 137).
	if both < n/4-685 || both > n/4+685 {
		t.Fatalf("%d of %d keys got both abort and duplicate, want about a quarter", both, n)
	}
}

package fault

import "github.com/nedry-chaos/nedry/filter/internal/config"

// Duplicated draws the duplicate fault of rule, which must have one, for a
// request whose sampling key is key (found false when it has none; ignored
// without sample_by). It runs after Decide (or DecideSticky) and consumes
// exactly one more value from r, keyed or not, so the four faults Decide
// draws keep their sequence and a duplicate is drawn independently of
// them. With sample_by and a key, the draw is a hash of the rule's
// duplicate salt and the key instead: the same users are duplicated every
// time. A request without the key is drawn at random, or never duplicated
// with missing "skip". Duplicated does not allocate.
func Duplicated(rule *config.Rule, r *Rand, key string, found bool) bool {
	x := r.PPM()
	if smp := rule.Sample; smp != nil {
		switch {
		case found && key != "":
			x = stickyPPM(smp.DuplicateSalt, key)
		case smp.Missing == config.MissingSkip:
			return false
		}
	}
	return x < rule.Duplicate.PPM
}

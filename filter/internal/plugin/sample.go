package plugin

import (
	"github.com/nedry-chaos/nedry/filter/internal/config"
	"github.com/nedry-chaos/nedry/filter/internal/fault"
)

// decide draws the faults of the matched rule, at the rates a ramp sets
// now if it has one: at random, or from the request's sampling key when
// the rule has sample_by. Rules without it take Decide's path unchanged.
func (s *stream) decide(st *ruleStats, rule *config.Rule) fault.Decision {
	var d fault.Decision
	var key string
	var ok bool
	if rule.Sample == nil {
		if st.ramped {
			d = fault.DecideRates(rule, &st.rates, s.l.rnd)
		} else {
			d = fault.Decide(rule, s.l.rnd)
		}
	} else {
		rates := rule.Rates()
		if st.ramped {
			rates = st.rates
		}
		key, ok = s.sampleKey(rule.Sample)
		d = fault.DecideSticky(rule, &rates, s.l.rnd, key, ok)
	}
	if rule.Duplicate != nil {
		// Drawn after the other four, so rules without it keep their
		// random sequence.
		d.Duplicate = fault.Duplicated(rule, s.l.rnd, key, ok)
	}
	return d
}

// sampleKey reads the sampling key from the request headers fetched at
// request headers (no host call): the first value of the header, or the
// named cookie of the first cookie header that has it (HTTP/2 clients may
// send one cookie header per cookie). It does not allocate: both are views
// of the header snapshot.
func (s *stream) sampleKey(smp *config.Sample) (string, bool) {
	if smp.Header != "" {
		return s.headers.Get(smp.Header)
	}
	for c := s.headers.Cursor(); ; {
		k, v, ok := c.Next()
		if !ok {
			return "", false
		}
		if k == "cookie" {
			if val, ok := fault.Cookie(v, smp.Cookie); ok {
				return val, true
			}
		}
	}
}

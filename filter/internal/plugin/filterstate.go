package plugin

import (
	"github.com/nedry-chaos/nedry/filter/internal/abi"
	"github.com/nedry-chaos/nedry/filter/internal/config"
)

// filterStateKey is the proxy_set_property path of the value an access log
// reads as %FILTER_STATE(wasm.nedry:PLAIN)% (Envoy prefixes "wasm.").
const filterStateKey = "nedry"

// noteState sets the stream's filter state to what it injects, as the tag
// names it ("payments; delay,abort"), or "<rule>; control" for a matched
// stream left untouched. It runs only for streams a rule (or header
// control) matched, once the plan is final at request headers, and again
// only if the plan shrinks later (a delay dropped, the kill switch):
// unmatched traffic makes no call.
func (s *stream) noteState() {
	st := s.plan.stats
	f := injected(s.plan.faults)
	if f == 0 && st.guard != nil && !s.watch {
		s.startWatch() // a control request of a guarded rule
	}
	s.setState(st.stateValue(f))
}

// noteApplied sets the filter state to the faults injected so far, for a
// stream whose remaining plan was dropped.
func (s *stream) noteApplied() {
	if s.plan.stats != nil { // no plan, no rule matched: nothing to say
		s.setState(s.plan.stats.stateValue(s.applied))
	}
}

func (s *stream) setState(v string) {
	if v == s.state {
		return
	}
	s.state = v
	_ = abi.SetProperty(filterStateKey, v)
}

// injected narrows planned faults to those that will take effect: an abort
// answers the request, so neither reset nor corruption follows it, and a
// reset stream is corrupted no further (see applyRequest).
func injected(f config.FaultSet) config.FaultSet {
	switch {
	case f&config.FaultAbort != 0:
		return f & (config.FaultDelay | config.FaultAbort)
	case f&config.FaultReset != 0:
		return f & (config.FaultDelay | config.FaultReset)
	}
	return f
}

// stateValue returns the filter state value for faults f. The values are
// built at configure time (setStateValues), so this does not allocate.
func (st *ruleStats) stateValue(f config.FaultSet) string {
	if f == 0 {
		return st.stateControl
	}
	return st.tag(f)
}

// setStateValues prepares the rule's filter state values besides its tags:
// "<rule>; control" (matched, nothing injected) and "<rule>; inactive"
// (matched outside its active window). The three are sliced from one string,
// one allocation per rule rather than three (BenchmarkConfigure/rules_1000).
func (st *ruleStats) setStateValues(name string) {
	const control, inactive, halted = "; control", "; inactive", "; halted"
	all := name + control + name + inactive + name + halted
	n := len(name)
	st.stateControl, all = all[:n+len(control)], all[n+len(control):]
	st.stateInactive, all = all[:n+len(inactive)], all[n+len(inactive):]
	st.stateHalted = all
}

// noteSkipped sets the filter state of a stream its rule matched and left
// alone for a reason: outside its window, or halted.
func (s *stream) noteSkipped(v string) {
	s.state = v
	_ = abi.SetProperty(filterStateKey, v)
}

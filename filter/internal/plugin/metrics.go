package plugin

import (
	"strings"

	"github.com/nedry-chaos/nedry/filter/internal/abi"
	"github.com/nedry-chaos/nedry/filter/internal/config"
	"github.com/nedry-chaos/nedry/filter/internal/fault"
)

// Indexes into ruleStats.ids, in the order of fault.RuleCounters.
const (
	counterMatched = iota
	counterAborts
	counterDelays
	counterCorruptions
	counterResets
	counterOverflow
)

// ruleStats is what a rule (or header control) needs on the request path,
// prepared at configure time: metric ids, a log prefix, and the serialized
// local-reply headers, built on first use per fault set and then reused.
type ruleStats struct {
	ids       [len(fault.RuleCounters)]uint32
	logPrefix string // "nedry: rule payments: "
	rule      *config.Rule
	tags      *[16]string // header control only; rules use Rule.Tag
	replies   *[16][]byte
	// Filter state values other than tags; see filterstate.go.
	stateControl, stateInactive, stateHalted string
	guard                                    *guard // nil: no halt
	timedStats
	// bodyIDs are the body counters, for rules with body ops only
	// (body.go), so other rules define no more metrics than before.
	bodyIDs *[len(bodyCounters)]uint32
	// dupIDs are the duplicate counters, for rules with a duplicate only
	// (duplicate.go).
	dupIDs *[len(duplicateCounters)]uint32
}

func (s *ruleStats) inc(counter int) {
	_ = abi.IncrementMetric(s.ids[counter], 1)
}

// tag returns the response tag for faults f.
func (s *ruleStats) tag(f config.FaultSet) string {
	if s.rule != nil {
		return s.rule.Tag(f)
	}
	return s.tags[f&15]
}

// defineStats defines the six counters of a rule (or of header control,
// whose metrics live under nedry.header_control.*). The six names are
// written into one string and sliced from it: one allocation per rule
// instead of six, which configuring 1,000 rules does 6,000 times
// (BenchmarkConfigure/rules_1000).
func defineStats(s *ruleStats, prefix string) error {
	n := 0
	for _, c := range fault.RuleCounters {
		n += len(prefix) + len(c)
	}
	var b strings.Builder
	b.Grow(n)
	for _, c := range fault.RuleCounters {
		b.WriteString(prefix)
		b.WriteString(c)
	}
	names := b.String()
	for i, c := range fault.RuleCounters {
		end := len(prefix) + len(c)
		id, err := abi.DefineMetric(abi.MetricTypeCounter, names[:end])
		if err != nil {
			return err
		}
		s.ids[i] = id
		names = names[end:]
	}
	return nil
}

// headerControlName names header-controlled faults in metrics, logs and tags.
const headerControlName = "header_control"

func newHeaderControlStats() (*ruleStats, error) {
	s := &ruleStats{logPrefix: "nedry: " + headerControlName + ": ", tags: new([16]string)}
	s.setStateValues(headerControlName)
	for f := config.FaultSet(1); f < 16; f++ {
		s.tags[f] = config.BuildTag(headerControlName, f)
	}
	return s, defineStats(s, fault.MetricPrefix+headerControlName+".")
}

func newRuleStats(r *config.Rule) (ruleStats, error) {
	s := ruleStats{rule: r, logPrefix: "nedry: rule " + r.Name + ": "}
	s.setStateValues(r.Name)
	if err := defineStats(&s, fault.RuleMetric(r.Name, "")); err != nil {
		return s, err
	}
	if err := defineBodyStats(&s, r); err != nil {
		return s, err
	}
	return s, defineDuplicateStats(&s, r)
}

package main

import (
	"context"
	"strconv"
	"strings"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// faultStats are the per-rule counters the filter defines, summed over
// rules, in the order the summary line lists them, with the words for one
// and for more. An array, so faultCounts has its length.
var faultStats = [...]struct{ suffix, one, more string }{
	{".aborts_injected", "abort", "aborts"},
	{".delays_injected", "delay", "delays"},
	{".corruptions_injected", "corruption", "corruptions"},
	{".resets_injected", "reset", "resets"},
	{".duplicates_sent", "duplicate sent", "duplicates sent"},
	{".duplicates_failed", "duplicate failed", "duplicates failed"},
	{".faults_overflow", "overflow", "overflows"},
}

// faultCounts holds one total per faultStats entry, in its order.
type faultCounts [len(faultStats)]int64

// Indexes into faultCounts of the kinds the demo's breaking point reads.
const (
	faultAborts = 0
	faultResets = 3
)

// faultTotals sums the fault counters of every rule and of header control
// (the same counters under nedry.header_control.) by kind, plus matches.
func faultTotals(m map[string]hosttest.Metric) (kinds faultCounts, matched int64) {
	for name, v := range m {
		if !strings.HasPrefix(name, "nedry.rule.") && !strings.HasPrefix(name, "nedry.header_control.") {
			continue
		}
		if strings.HasSuffix(name, ".matched") {
			matched += v.Value
			continue
		}
		for i, s := range faultStats {
			if strings.HasSuffix(name, s.suffix) {
				kinds[i] += v.Value
			}
		}
	}
	return kinds, matched
}

// reportFaults prints one info line per interval in which faults were
// injected, with counts per kind; the filter's per-fault lines are at
// debug, so a loaded proxy prints at most one line per interval. It reads
// the filter's counters, so it counts exactly what /stats shows.
func reportFaults(ctx context.Context, host *hosttest.Host, log *logger, every time.Duration) {
	if !log.enabled(hosttest.LogLevelInfo) {
		return
	}
	prev, prevMatched := faultTotals(host.Metrics())
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur, matched := faultTotals(host.Metrics())
		if line := faultLine(prev, cur, matched-prevMatched); line != "" {
			log.infof("faults in the last %s: %s", every, line)
		}
		prev, prevMatched = cur, matched
	}
}

// faultLine describes the difference between two totals, or "" when no
// fault was injected.
func faultLine(prev, cur faultCounts, matched int64) string {
	var parts []string
	for i, s := range faultStats {
		if d := cur[i] - prev[i]; d > 0 {
			word := s.more
			if d == 1 {
				word = s.one
			}
			parts = append(parts, strconv.FormatInt(d, 10)+" "+word)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	requests := " requests matched)"
	if matched == 1 {
		requests = " request matched)"
	}
	return strings.Join(parts, ", ") + " (" + strconv.FormatInt(matched, 10) + requests
}

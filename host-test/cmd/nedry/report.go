package main

import (
	"context"
	"strconv"
	"strings"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// faultStats are the per-rule counters the filter defines, summed over
// rules, in the order the summary line lists them.
var faultStats = []struct{ suffix, label string }{
	{".aborts_injected", "abort"},
	{".delays_injected", "delay"},
	{".corruptions_injected", "corruption"},
	{".resets_injected", "reset"},
	{".faults_overflow", "overflow"},
}

// faultTotals sums the fault counters of every rule and of header control
// (the same counters under nedry.header_control.) by kind, plus matches.
func faultTotals(m map[string]hosttest.Metric) (kinds [5]int64, matched int64) {
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
func faultLine(prev, cur [5]int64, matched int64) string {
	var parts []string
	for i, s := range faultStats {
		if d := cur[i] - prev[i]; d > 0 {
			part := strconv.FormatInt(d, 10) + " " + s.label
			if d > 1 {
				part += "s"
			}
			parts = append(parts, part)
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

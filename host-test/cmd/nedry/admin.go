package main

import (
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// adminHandler serves the admin endpoints, modelled on Envoy's admin
// interface: /stats, /stats/prometheus and /ready.
func adminHandler(host *hosttest.Host, ready *atomic.Bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, statsText(host.Metrics()))
	})
	mux.HandleFunc("GET /stats/prometheus", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		io.WriteString(w, statsPrometheus(host.Metrics()))
	})
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "DRAINING\n")
			return
		}
		io.WriteString(w, "LIVE\n")
	})
	return mux
}

func sortedNames(m map[string]hosttest.Metric) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// statsText renders metrics as Envoy's /stats does: one "name: value" line
// per metric, sorted by name. A histogram shows its sample count, since its
// quantiles need more than one line.
func statsText(m map[string]hosttest.Metric) string {
	var b strings.Builder
	for _, n := range sortedNames(m) {
		b.WriteString(n)
		b.WriteString(": ")
		b.WriteString(strconv.FormatInt(m[n].Value, 10))
		b.WriteByte('\n')
	}
	return b.String()
}

// promName splits a dotted metric name into a Prometheus metric name and
// its rule label: nedry.rule.<rule>.<stat> becomes nedry_rule_<stat> with
// nedry_rule="<rule>", the tag the shipped Envoy stats_tags extract
// (promRuleLabel), so a dashboard works against both. Every other
// character outside [a-zA-Z0-9_:] becomes '_'.
func promName(name string) (metric, rule string) {
	const prefix = "nedry.rule."
	if rest, ok := strings.CutPrefix(name, prefix); ok {
		if i := strings.LastIndexByte(rest, '.'); i > 0 {
			rule, name = rest[:i], prefix+rest[i+1:]
		}
	}
	return sanitizeProm(name), rule
}

// promRuleLabel is the label that carries the rule name: the tag_name of the
// stats_tags entry in envoy/envoy.yaml and envoy/ecds/envoy.yaml.
const promRuleLabel = "nedry_rule"

func sanitizeProm(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9'
		if !ok {
			b[i] = '_'
		}
	}
	return string(b)
}

// escapeLabel escapes a label value per the Prometheus text format.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// statsPrometheus renders metrics in the Prometheus text exposition format:
// one # TYPE line per family, then its samples sorted by label. Histograms
// are exposed as _count and _sum, which need no bucket layout.
func statsPrometheus(m map[string]hosttest.Metric) string {
	type sample struct {
		rule   string
		metric hosttest.Metric
	}
	families := map[string][]sample{}
	for n, v := range m {
		name, rule := promName(n)
		families[name] = append(families[name], sample{rule, v})
	}
	names := make([]string, 0, len(families))
	for n := range families {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		ss := families[n]
		slices.SortFunc(ss, func(a, b sample) int { return strings.Compare(a.rule, b.rule) })
		typ := "counter"
		switch ss[0].metric.Type {
		case hosttest.MetricGauge:
			typ = "gauge"
		case hosttest.MetricHistogram:
			typ = "summary"
		}
		b.WriteString("# TYPE " + n + " " + typ + "\n")
		for _, s := range ss {
			labels := ""
			if s.rule != "" {
				labels = "{" + promRuleLabel + `="` + escapeLabel(s.rule) + `"}`
			}
			if s.metric.Type == hosttest.MetricHistogram {
				var sum uint64
				for _, x := range s.metric.Histogram {
					sum += x
				}
				b.WriteString(n + "_count" + labels + " " + strconv.Itoa(len(s.metric.Histogram)) + "\n")
				b.WriteString(n + "_sum" + labels + " " + strconv.FormatUint(sum, 10) + "\n")
				continue
			}
			b.WriteString(n + labels + " " + strconv.FormatInt(s.metric.Value, 10) + "\n")
		}
	}
	return b.String()
}

package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/tidwall/gjson"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// readConfig reads a plugin configuration file. The filter validates it;
// nedry only refuses what it cannot read.
func readConfig(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return b, nil
}

// summary is nedry's one-line description of an accepted configuration:
// how many rules, their names, and whether the kill switch or dry run is on.
// The filter already validated cfg, so this only reads it.
func summary(cfg []byte) string {
	rules := gjson.GetBytes(cfg, "rules").Array()
	var b strings.Builder
	switch len(rules) {
	case 1:
		b.WriteString("1 rule")
	default:
		fmt.Fprintf(&b, "%d rules", len(rules))
	}
	if len(rules) > 0 {
		b.WriteString(" (")
		for i, r := range rules {
			if i == 8 {
				fmt.Fprintf(&b, ", … %d more", len(rules)-i)
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(r.Get("name").String())
			b.WriteString(": ")
			b.WriteString(faultKinds(r))
		}
		b.WriteString(")")
	}
	if e := gjson.GetBytes(cfg, "enabled"); e.Exists() && !e.Bool() {
		b.WriteString(", disabled (enabled: false)")
	}
	if gjson.GetBytes(cfg, "dry_run").Bool() {
		b.WriteString(", dry run")
	}
	return b.String()
}

// faultKinds lists a rule's faults with their percentages, e.g.
// "abort 10%+delay 25%".
func faultKinds(rule gjson.Result) string {
	var parts []string
	for _, k := range []string{"abort", "delay", "corrupt", "reset"} {
		if f := rule.Get(k); f.Exists() {
			p := f.Get("percent")
			if p.Exists() {
				parts = append(parts, k+" "+p.Raw+"%")
			} else {
				parts = append(parts, k)
			}
		}
	}
	return strings.Join(parts, "+")
}

// refusal lists every reason a configuration was refused, one line each:
// the harness's summary of the refusal, then every warning and error the
// filter logged (JSON path, rule and value). Identical lines from several
// VMs are listed once.
func refusal(err error) []string {
	var pe *hosttest.PushError
	if !errors.As(err, &pe) {
		return []string{err.Error()}
	}
	lines := []string{fmt.Sprintf("configuration refused (%s): %s", pe.Stage, pe.Reason)}
	seen := map[string]bool{}
	for _, l := range pe.Logs {
		if l.Level < hosttest.LogLevelWarn || seen[l.Message] {
			continue
		}
		seen[l.Message] = true
		// The filter prefixes its lines with "nedry: "; every line nedry
		// prints already starts with that.
		msg := strings.TrimPrefix(strings.TrimRight(l.Message, "\n"), "nedry: ")
		lines = append(lines, msg)
	}
	if pe.Trap != nil {
		lines = append(lines, "trap: "+pe.Trap.Error())
	}
	return lines
}

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
// what it will do. Its rules with their faults, then whether the kill switch
// is on (then nothing else matters: nothing is injected, header control
// included), header control (and whether it needs the secret), dry run, and
// when nothing at all can be injected, that. The filter already validated
// cfg, so this only reads it.
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
		b.WriteString(", kill switch on (enabled: false): nothing is injected")
		return b.String()
	}
	hc := gjson.GetBytes(cfg, "header_control")
	if hc.Get("enabled").Bool() {
		b.WriteString(", header control on (")
		if hc.Get("secret").String() != "" {
			b.WriteString("x-nedry-secret required")
		} else {
			b.WriteString("no secret: any request")
		}
		maxDelay := "10s"
		if d := hc.Get("max_delay"); d.Exists() {
			maxDelay = d.String()
		}
		b.WriteString(", max delay " + maxDelay + ")")
	} else if len(rules) == 0 {
		b.WriteString(", no header control: nothing is injected")
		return b.String()
	}
	if gjson.GetBytes(cfg, "dry_run").Bool() {
		b.WriteString(", dry run: faults are counted, not injected")
	}
	return b.String()
}

// faultKinds lists a rule's faults with their percentages, e.g.
// "abort 10%+delay 25%".
func faultKinds(rule gjson.Result) string {
	var parts []string
	for _, k := range []string{"abort", "delay", "corrupt", "reset", "duplicate"} {
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

// tryCommands suggests one curl command per rule (at most max) that the
// rule matches, so a --demo user sees each fault right away. Rules whose
// match nedry cannot turn into a request (a regex, an authority, a
// cluster) are skipped.
func tryCommands(cfg []byte, routes routeTable, addr string, max int) []string {
	var out []string
	for _, r := range gjson.GetBytes(cfg, "rules").Array() {
		if len(out) == max {
			break
		}
		m := r.Get("match")
		if m.Get("regex").Exists() || m.Get("authority").Exists() || m.Get("cluster").Exists() || m.Get("virtual_host").Exists() {
			continue
		}
		path := "/"
		switch {
		case m.Get("path").Exists():
			path = m.Get("path").String()
		case m.Get("prefix").Exists():
			path = m.Get("prefix").String()
		}
		if rn := m.Get("route_name"); rn.Exists() {
			found := false
			for _, rt := range routes {
				if rt.name == rn.String() {
					path, found = rt.prefix, true
					break
				}
			}
			if !found && rn.String() != defaultRouteName {
				continue
			}
		}
		var b strings.Builder
		b.WriteString("curl -i")
		if ms := m.Get("methods").Array(); len(ms) > 0 {
			b.WriteString(" -X " + ms[0].String())
		}
		usable := true
		m.Get("headers").ForEach(func(_, h gjson.Result) bool {
			name := h.Get("name").String()
			switch {
			case h.Get("invert").Bool():
			case h.Get("exact").Exists():
				b.WriteString(" -H '" + name + ": " + h.Get("exact").String() + "'")
			case h.Get("present").Bool():
				b.WriteString(" -H '" + name + ": 1'")
			case h.Get("prefix").Exists():
				b.WriteString(" -H '" + name + ": " + h.Get("prefix").String() + "'")
			default:
				usable = false
			}
			return usable
		})
		if !usable {
			continue
		}
		note := ""
		if r.Get("duplicate").Exists() {
			// The demo knows a request by its idempotency-key, or else by a
			// hash of method, path and body: without a key of its own, every
			// try after the first would read as a repeat, copy or not.
			b.WriteString(` -H "idempotency-key: try-$(date +%s)"`)
			note = " (README: Is this endpoint idempotent?)"
		}
		b.WriteString(" http://" + addr + path)
		out = append(out, b.String()+"   # "+r.Get("name").String()+": "+faultKinds(r)+note)
	}
	return out
}

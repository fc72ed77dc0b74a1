package hosttest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

func TestConfig_validLogsSummary(t *testing.T) {
	h := newNedry(t, `{"seed": 9, "rules": [{"name": "a", "abort": {"percent": 1}}, {"name": "b", "reset": {"percent": 1}}]}`,
		hosttest.Options{Workers: 2})
	// One line per worker VM (the validation VM's logs are not the host's).
	want := []string{"nedry: configuration accepted: 2 rules (a, b), enabled, seed 9, tick 5ms",
		"nedry: configuration accepted: 2 rules (a, b), enabled, seed 9, tick 5ms"}
	if have := logsAt(h.Logs(), hosttest.LogLevelInfo); fmt.Sprintf("%q", have) != fmt.Sprintf("%q", want) {
		t.Fatalf("info logs:\nhave %q\nwant %q", have, want)
	}
	if have := append(logsAt(h.Logs(), hosttest.LogLevelWarn), logsAt(h.Logs(), hosttest.LogLevelError)...); len(have) != 0 {
		t.Fatalf("warnings or errors for a valid config: %q", have)
	}
}

func TestConfig_emptyPassesEverything(t *testing.T) {
	for _, cfg := range []string{"", "  \n", `{}`, `{"rules": []}`} {
		t.Run(fmt.Sprintf("%q", cfg), func(t *testing.T) {
			h := newNedry(t, cfg, hosttest.Options{})
			want := "nedry: configuration accepted with no rules: 0 rules, enabled, random seed, tick 5ms"
			if have := logsAt(h.Logs(), hosttest.LogLevelWarn); len(have) != 1 || have[0] != want {
				t.Fatalf("warnings: have %q, want [%q]", have, want)
			}
			r, _ := run(h, get("GET", "/anything", "x-a", "1"))
			if r.Upstream == nil || r.LocalReply != nil || r.Response.Status != 200 || len(r.Logs) != 0 {
				t.Fatalf("have upstream %v, reply %+v, logs %v; want a plain pass", r.Upstream, r.LocalReply, r.Logs)
			}
		})
	}
}

// invalidConfig has one problem of each family; every one must be reported.
const invalidConfig = `{"rules": [
	{"name": "a", "abort": {"percent": 150, "http_status": 700}},
	{"name": "A", "delay": {"percent": 10}},
	{"name": "c", "corrupt": {"percent": 5, "request": [{"op": "explode", "name": "x"}]}, "abrot": {}}
], "tick": "0s", "bogus": 1}`

var invalidConfigErrors = []string{
	"nedry: invalid configuration: rules[0] (a).abort.percent: must be in [0, 100], got 150",
	"nedry: invalid configuration: rules[0] (a).abort.http_status: must be in [200, 599], got 700",
	`nedry: invalid configuration: rules[1].name: must match [a-z0-9_-]{1,64}, got "A"`,
	"nedry: invalid configuration: rules[1].delay.fixed: required",
	`nedry: invalid configuration: rules[2] (c).corrupt.request[0].op: must be one of remove, set, append, empty, truncate, garble, status, got "explode"`,
	"nedry: invalid configuration: rules[2] (c).abrot: unknown field",
	`nedry: invalid configuration: tick: must be in [1ms, 1s], got "0s"`,
	"nedry: invalid configuration: bogus: unknown field",
}

func TestConfig_invalidAtLoad(t *testing.T) {
	var seen []hosttest.LogEntry
	_, err := hosttest.New(context.Background(), nedry(t), hosttest.Options{Seed: 1, PluginConfig: []byte(invalidConfig),
		Logger: func(e hosttest.LogEntry) { seen = append(seen, e) }})
	var pe *hosttest.PushError
	if !errors.As(err, &pe) {
		t.Fatalf("New: have %v, want a *PushError", err)
	}
	if pe.Stage != "validation" || pe.Trap != nil {
		t.Fatalf("have stage %q, trap %v; want a refusal in the validation VM", pe.Stage, pe.Trap)
	}
	if have := logsAt(pe.Logs, hosttest.LogLevelError); fmt.Sprintf("%q", have) != fmt.Sprintf("%q", invalidConfigErrors) {
		t.Fatalf("error logs:\nhave %q\nwant %q", strings.Join(have, "\n"), strings.Join(invalidConfigErrors, "\n"))
	}
	if fmt.Sprint(logsAt(seen, hosttest.LogLevelError)) != fmt.Sprint(invalidConfigErrors) {
		t.Fatalf("Options.Logger saw %q", logsAt(seen, hosttest.LogLevelError))
	}
	for _, want := range invalidConfigErrors {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error text lacks %q:\n%v", want, err)
		}
	}
}

func TestConfig_invalidAtLoadTable(t *testing.T) {
	tests := []struct {
		name, cfg string
		want      []string
	}{
		{"not json", `{"rules": [`, []string{"nedry: invalid configuration: config: invalid JSON at line 1, column 12 (byte offset 11): expected a value, got end of input"}},
		{"not json, third line", "{\n  \"rules\": [\n    {\"name\": \"a\",}\n  ]\n}",
			[]string{"nedry: invalid configuration: config: invalid JSON at line 3, column 18 (byte offset 32): expected a string key, got '}'"}},
		{"not an object", `[1]`, []string{"nedry: invalid configuration: config: must be an object, got [1]"}},
		{"no fault", `{"rules": [{"name": "x"}]}`,
			[]string{"nedry: invalid configuration: rules[0] (x): must configure at least one fault (abort, delay, corrupt, reset or duplicate)"}},
		{"duplicate names", `{"rules": [{"name": "x", "reset": {"percent": 1}}, {"name": "x", "reset": {"percent": 1}}]}`,
			[]string{`nedry: invalid configuration: rules[1] (x).name: duplicate rule name, already used by rules[0], got "x"`}},
		{"grpc status", `{"rules": [{"name": "x", "abort": {"percent": 1, "grpc_status": 17}}]}`,
			[]string{"nedry: invalid configuration: rules[0] (x).abort.grpc_status: must be in [0, 16], got 17"}},
		{"bad regex", `{"rules": [{"name": "x", "match": {"regex": "("}, "reset": {"percent": 1}}]}`,
			[]string{"nedry: invalid configuration: rules[0] (x).match.regex: invalid regular expression: "}},
		{"remove a pseudo-header", `{"rules": [{"name": "x", "corrupt": {"percent": 1, "request": [{"op": "remove", "name": ":path"}]}}]}`,
			[]string{"nedry: invalid configuration: rules[0] (x).corrupt.request[0].name: pseudo-header only allowed with op set (a request has exactly one of each)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			have, _ := loadErrors(t, tc.cfg)
			if len(have) != len(tc.want) {
				t.Fatalf("error logs:\nhave %q\nwant %q", have, tc.want)
			}
			for i := range have {
				if !strings.HasPrefix(have[i], tc.want[i]) {
					t.Fatalf("error log %d:\nhave %q\nwant prefix %q", i, have[i], tc.want[i])
				}
			}
		})
	}
}

// The problem list is capped at 50 lines plus one saying how many more.
func TestConfig_invalidCapped(t *testing.T) {
	var rules []string
	for i := 0; i < 60; i++ {
		rules = append(rules, fmt.Sprintf(`{"name": "r%d", "abort": {"percent": 101}}`, i))
	}
	_, err := hosttest.New(context.Background(), nedry(t), hosttest.Options{Seed: 1,
		PluginConfig: []byte(`{"rules": [` + strings.Join(rules, ",") + `]}`)})
	var pe *hosttest.PushError
	if !errors.As(err, &pe) {
		t.Fatalf("New: have %v, want a *PushError", err)
	}
	have := logsAt(pe.Logs, hosttest.LogLevelError)
	if len(have) != 51 || have[0] != "nedry: invalid configuration: rules[0] (r0).abort.percent: must be in [0, 100], got 101" ||
		have[50] != "nedry: invalid configuration: ... and 10 more errors" {
		t.Fatalf("have %d error lines, first %q, last %q", len(have), have[0], have[len(have)-1])
	}
}

// loadErrors starts a host with cfg as its first configuration, which must
// be refused, and returns the error lines the filter logged and the error.
func loadErrors(t *testing.T, cfg string) ([]string, error) {
	t.Helper()
	_, err := hosttest.New(context.Background(), nedry(t), hosttest.Options{Seed: 1, PluginConfig: []byte(cfg)})
	var pe *hosttest.PushError
	if !errors.As(err, &pe) {
		t.Fatalf("New: have %v, want a *PushError", err)
	}
	return logsAt(pe.Logs, hosttest.LogLevelError), err
}

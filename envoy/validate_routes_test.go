package envoy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// extractTag applies one stats_tags regex the way Envoy's tag extractor does:
// the first capture group is cut from the stat name, the second (or the
// first, when there is only one) is the tag value.
func extractTag(re *regexp.Regexp, name string) (value, rest string, ok bool) {
	m := re.FindStringSubmatchIndex(name)
	if m == nil || m[2] < 0 {
		return "", name, false
	}
	v := 1
	if re.NumSubexp() >= 2 && m[4] >= 0 {
		v = 2
	}
	return name[m[2*v]:m[2*v+1]], name[:m[2]] + name[m[3]:], true
}

func TestStatsTags_nedryRule(t *testing.T) {
	tests := []struct {
		stat, wantTag, wantRest string
	}{
		{"wasmcustom.nedry.rule.payments.aborts_injected", "payments", "wasmcustom.nedry.rule.aborts_injected"},
		{"wasmcustom.nedry.rule.payments.matched", "payments", "wasmcustom.nedry.rule.matched"},
		{"wasmcustom.nedry.rule.search.delays_injected", "search", "wasmcustom.nedry.rule.delays_injected"},
		{"wasmcustom.nedry.rule.users_grpc.corruptions_injected", "users_grpc", "wasmcustom.nedry.rule.corruptions_injected"},
		{"wasmcustom.nedry.rule.edge-01.resets_injected", "edge-01", "wasmcustom.nedry.rule.resets_injected"},
		{"wasmcustom.nedry.rule.abort_demo.faults_overflow", "abort_demo", "wasmcustom.nedry.rule.faults_overflow"},
		// Without the namespace prefix, should an Envoy register it that way.
		{"nedry.rule.payments.aborts_injected", "payments", "nedry.rule.aborts_injected"},
		// Under a scope prefix, as a filter delivered by ECDS might be.
		{"extension_config_discovery.http_filter.nedry.wasmcustom.nedry.rule.payments.aborts_injected", "payments", "extension_config_discovery.http_filter.nedry.wasmcustom.nedry.rule.aborts_injected"},
		// "nedry.rule." must start a segment.
		{"wasmcustom.notnedry.rule.payments.aborts_injected", "", "wasmcustom.notnedry.rule.payments.aborts_injected"},
		// Global metrics carry no rule tag.
		{"wasmcustom.nedry.errors", "", "wasmcustom.nedry.errors"},
		{"wasmcustom.nedry.config_rejected", "", "wasmcustom.nedry.config_rejected"},
		{"wasmcustom.nedry.active_faults", "", "wasmcustom.nedry.active_faults"},
		// Other plugins' metrics are left alone.
		{"wasmcustom.other.rule.payments.aborts_injected", "", "wasmcustom.other.rule.payments.aborts_injected"},
	}
	for _, rel := range []string{envoyYAML, ecdsBootstrap} {
		b := loadBootstrap(t, rel)
		var re *regexp.Regexp
		for _, st := range b.GetStatsConfig().GetStatsTags() {
			if st.GetTagName() == "nedry_rule" {
				re = regexp.MustCompile(st.GetRegex())
			}
		}
		if re == nil {
			t.Fatalf("%s: no stats_tags entry with tag_name nedry_rule", rel)
		}
		for _, tc := range tests {
			t.Run(rel+"/"+tc.stat, func(t *testing.T) {
				tag, rest, ok := extractTag(re, tc.stat)
				if ok != (tc.wantTag != "") || tag != tc.wantTag || rest != tc.wantRest {
					t.Fatalf("want tag %q, name %q; have tag %q (matched %v), name %q", tc.wantTag, tc.wantRest, tag, ok, rest)
				}
			})
		}
	}
}

// routeNames returns the route names of envoy.yaml, which rules match with
// match.route_name.
func routeNames(t testing.TB) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	b := loadBootstrap(t, envoyYAML)
	for _, vh := range hcmOf(t, b).GetRouteConfig().GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			names[r.GetName()] = true
		}
	}
	return names
}

// Every route_name an example rule matches on must exist in envoy.yaml, or
// the example would silently never fire there.
func TestRouteNames_coverExamples(t *testing.T) {
	routes := routeNames(t)
	for _, want := range []string{"payments", "search", "users_grpc"} {
		if !routes[want] {
			t.Errorf("envoy.yaml: no route named %q", want)
		}
	}
	files, err := filepath.Glob(filepath.Join(repoRoot, "examples", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples/*.json found (err %v)", err)
	}
	used := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			Rules []struct {
				Name  string `json:"name"`
				Match struct {
					RouteName string `json:"route_name"`
				} `json:"match"`
			} `json:"rules"`
		}
		if err := json.Unmarshal(data, &cfg); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		for _, r := range cfg.Rules {
			if rn := r.Match.RouteName; rn != "" {
				used++
				if !routes[rn] {
					t.Errorf("%s: rule %q matches route_name %q, which envoy.yaml does not define (have %v)", filepath.Base(f), r.Name, rn, keys(routes))
				}
			}
		}
	}
	if used == 0 {
		t.Fatalf("no example uses match.route_name; this test would check nothing")
	}
}

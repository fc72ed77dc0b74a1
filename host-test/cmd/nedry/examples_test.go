package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// TestEnvoyRoutes_shipped checks that the route table nedry run reads from
// envoy/envoy.yaml is the bootstrap's, decoded here independently.
func TestEnvoyRoutes_shipped(t *testing.T) {
	path := hosttest.RepoPath(defaultEnvoyRoutes)
	have, err := readEnvoyRoutes(path)
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	if err := yaml.Unmarshal(readFileT(t, path), &b); err != nil {
		t.Fatal(err)
	}
	dig := func(v any, keys ...any) any {
		for _, k := range keys {
			switch k := k.(type) {
			case string:
				v = v.(map[string]any)[k]
			case int:
				v = v.([]any)[k]
			}
		}
		return v
	}
	var want routeTable
	for _, r := range dig(b, "static_resources", "listeners", 0, "filter_chains", 0, "filters", 0, "typed_config", "route_config", "virtual_hosts", 0, "routes").([]any) {
		m := dig(r, "match").(map[string]any)
		_, grpc := m["grpc"]
		want = append(want, route{name: dig(r, "name").(string), prefix: m["prefix"].(string), grpc: grpc})
	}
	if !slices.Equal(have, want) || len(want) < 3 {
		t.Fatalf("have %v, want %v", have, want)
	}
	for _, tc := range []struct{ path, contentType, want string }{
		{"/payments/1", "", "payments"},
		{"/search?q=x", "", "search"},
		{"/users.v1.Users/Get", "application/grpc", "users_grpc"},
		{"/users.v1.Users/Get", "application/json", "default"},
		{"/other", "", "default"},
	} {
		if r := have.match(tc.path, tc.contentType); r != tc.want {
			t.Errorf("match(%q, %q): have %q, want %q", tc.path, tc.contentType, r, tc.want)
		}
	}
}

func TestReadEnvoyRoutes_errors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, yaml, want string }{
		{"no routes", "static_resources: {listeners: []}\n", "no route_config with routes in static_resources.listeners"},
		{"regex route", `static_resources:
  listeners:
  - filter_chains:
    - filters:
      - typed_config:
          route_config:
            virtual_hosts:
            - routes:
              - {name: r, match: {safe_regex: {regex: x}}}
`, "routes[0] (r): only prefix matches have a local equivalent"},
		{"bad yaml", "a: [", "yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml", tc.yaml)
			_, err := readEnvoyRoutes(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("have %v, want %q", err, tc.want)
			}
		})
	}
}

// TestExamples_fireUnderRun runs every examples/*.json through nedry run as
// make run starts it (the demo upstream, the route table of
// envoy/envoy.yaml) over loopback HTTP, with every percent raised to 100,
// and sends each rule a request built from its match: each rule must count
// a match and each of its faults. A header-control example gets a request
// asking for an abort with its secret.
func TestExamples_fireUnderRun(t *testing.T) {
	routes, err := readEnvoyRoutes(hosttest.RepoPath(defaultEnvoyRoutes))
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(hosttest.RepoPath("examples", "*.json"))
	if err != nil || len(files) < 8 {
		t.Fatalf("examples: %v, %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var cfg map[string]any
			if err := json.Unmarshal(readFileT(t, f), &cfg); err != nil {
				t.Fatal(err)
			}
			always(cfg)
			data, _ := json.Marshal(cfg)
			n := startNedry(t, "--demo", "--config", writeFile(t, t.TempDir(), "cfg.json", string(data)))
			c := client()
			var want, noFailed []string
			rules, _ := cfg["rules"].([]any)
			for _, r := range rules {
				r := r.(map[string]any)
				name := r["name"].(string)
				method, path, hdr := requestFor(t, r["match"], routes)
				if sb, _ := r["sample_by"].(map[string]any); sb != nil && sb["header"] != nil {
					hdr[sb["header"].(string)] = "user-1"
				}
				body := bodyFor(r)
				if body != nil {
					hdr["content-type"] = "application/json"
				}
				dup, _ := r["duplicate"].(map[string]any)
				key := "example-" + name
				if dup != nil {
					hdr[demoIdempotencyKey] = key
				}
				if resp, err := do(c, method, n.url(path), hdr, body); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				want = append(want, "nedry.rule."+name+".matched")
				for kind, stat := range map[string]string{"abort": "aborts", "delay": "delays", "corrupt": "corruptions", "reset": "resets"} {
					if _, ok := r[kind]; ok {
						want = append(want, "nedry.rule."+name+"."+stat+"_injected")
					}
				}
				if dup != nil {
					copies := 1
					if v, ok := dup["copies"].(float64); ok {
						copies = int(v)
					}
					waitCopies(t, c, n, r, path, key, copies)
					want = append(want, "nedry.rule."+name+".duplicates_sent")
					noFailed = append(noFailed, "nedry.rule."+name+".duplicates_failed")
				}
			}
			if hc, _ := cfg["header_control"].(map[string]any); hc != nil && hc["enabled"] == true {
				secret, _ := hc["secret"].(string)
				status, _, _ := get(t, c, "GET", n.url("/"), map[string]string{"x-nedry-abort": "418", "x-nedry-secret": secret})
				if status != 418 {
					t.Errorf("header control: have status %d, want 418", status)
				}
				want = append(want, "nedry.header_control.aborts_injected")
			}
			if len(want) == 0 {
				t.Fatal("the example neither has rules nor header control")
			}
			_, _, stats := get(t, c, "GET", "http://"+n.admin+"/stats", nil)
			for _, w := range want {
				if v := statValue(stats, w); v < 1 {
					t.Errorf("%s: have %d, want at least 1\n%s", w, v, stats)
				}
			}
			for _, w := range noFailed {
				if v := statValue(stats, w); v != 0 {
					t.Errorf("%s: have %d, want 0: the demo answers every copy 200\n%s", w, v, stats)
				}
			}
		})
	}
}

// waitCopies waits until the demo upstream has processed the request with
// idempotency-key key 1+copies times: the original and every copy the
// duplicate rule sent, each copy after the rule's "after" from the root's
// tick. It asks the demo with GETs carrying the key, which it counts as
// further repeats of the same request: the i-th probe (from 0) answers
// x-demo-repeat 1+copies+i once every copy arrived. A GET is never
// duplicated by the rule, which must not match one, or the probes would
// have copies too. It polls for at most 10 s.
func waitCopies(t *testing.T, c *http.Client, n *nedry, rule map[string]any, path, key string, copies int) {
	t.Helper()
	m, _ := rule["match"].(map[string]any)
	if ms, _ := m["methods"].([]any); len(ms) == 0 || slices.Contains(ms, any("GET")) {
		t.Fatalf("rule %s: its match.methods must exclude GET, which the check of its copies sends", rule["name"])
	}
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		status, hdr, _ := get(t, c, "GET", n.url(path), map[string]string{demoIdempotencyKey: key})
		repeat, _ := strconv.Atoi(hdr.Get(demoRepeat))
		seen := repeat - 1 - i // copies that reached the demo
		switch {
		case status != http.StatusOK:
			t.Fatalf("probe %d: status %d, want the demo's 200", i, status)
		case seen == copies:
			return
		case seen > copies || seen < 0:
			t.Fatalf("probe %d: %s %d: the demo processed %s %d times, want 1 + %d copies", i, demoRepeat, repeat, key, repeat-i, copies)
		case time.Now().After(deadline):
			t.Fatalf("after 10s the demo had processed %s %d times (1 + %d copies), want 1 + %d copies", key, 1+seen, seen, copies)
		}
		time.Sleep(5 * time.Millisecond) // poll: the copies go out from the root's tick
	}
}

// always raises every "percent" of a configuration to 100, so one request
// per rule shows whether it fires, and drops what depends on the wall clock
// (a rule's active window, the configuration's expiry), so the test passes
// on any day.
func always(v any) {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "active")
		delete(v, "expires")
		for k, x := range v {
			if k == "percent" {
				v[k] = 100
				continue
			}
			always(x)
		}
	case []any:
		for _, x := range v {
			always(x)
		}
	}
}

// requestFor builds a request a rule's match selects: method, path (from
// path, prefix or the route_name's prefix) and headers.
func requestFor(t *testing.T, match any, routes routeTable) (method, path string, hdr map[string]string) {
	t.Helper()
	m, _ := match.(map[string]any)
	method, path, hdr = "GET", "/", map[string]string{}
	if ms, _ := m["methods"].([]any); len(ms) > 0 {
		method = ms[0].(string)
	}
	if p, ok := m["path"].(string); ok {
		path = p
	}
	if p, ok := m["prefix"].(string); ok {
		path = p
	}
	if rn, ok := m["route_name"].(string); ok {
		i := slices.IndexFunc(routes, func(r route) bool { return r.name == rn })
		if i < 0 {
			t.Fatalf("route_name %q is not a route of %s", rn, defaultEnvoyRoutes)
		}
		path = routes[i].prefix
		if routes[i].grpc {
			hdr["content-type"] = "application/grpc"
		}
	}
	hs, _ := m["headers"].([]any)
	for _, h := range hs {
		h := h.(map[string]any)
		name := h["name"].(string)
		switch {
		case h["exact"] != nil:
			hdr[name] = h["exact"].(string)
		case h["prefix"] != nil:
			hdr[name] = h["prefix"].(string)
		case h["present"] == true:
			hdr[name] = "x"
		default:
			t.Fatalf("header matcher %v: no request built for it", h)
		}
	}
	return method, path, hdr
}

// bodyFor returns a JSON request body holding every path the rule's
// request body ops name (each set to 1), or nil for a rule without them.
func bodyFor(rule map[string]any) []byte {
	c, _ := rule["corrupt"].(map[string]any)
	rb, _ := c["request_body"].(map[string]any)
	ops, _ := rb["ops"].([]any)
	if len(ops) == 0 {
		return nil
	}
	doc := map[string]any{}
	for _, op := range ops {
		p, _ := op.(map[string]any)["path"].(string)
		m := doc
		keys := strings.Split(p, ".")
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		m[keys[len(keys)-1]] = 1
	}
	b, _ := json.Marshal(doc)
	return b
}

// statValue reads one counter from /stats text ("name: value" lines).
func statValue(stats, name string) int64 {
	for _, l := range strings.Split(stats, "\n") {
		if v, ok := strings.CutPrefix(l, name+": "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

func readFileT(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBuildRoutes_order: route flags build the table in command-line order,
// whatever flags are mixed; without any, the table is envoy/envoy.yaml's.
func TestBuildRoutes_order(t *testing.T) {
	file := writeFile(t, t.TempDir(), "routes.txt", "payments=/pay\n")
	tests := []struct {
		name string
		srcs []routeSource
		want string
	}{
		{"route then routes", []routeSource{{"--route", "all=/"}, {"--routes", file}}, "all=/, payments=/pay, default (catch-all)"},
		{"routes then route", []routeSource{{"--routes", file}, {"--route", "all=/"}}, "payments=/pay, all=/"},
		{"default", nil, "users_grpc=/users.v1.Users/ (grpc), payments=/payments, search=/search, default=/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			have, _, err := buildRoutes(tc.srcs)
			if err != nil || have.String() != tc.want {
				t.Fatalf("have %q, %v, want %q", have, err, tc.want)
			}
		})
	}
}

// TestRun_removedContentTypeStaysRemoved: a response op that removes
// content-type leaves the response without one, as in Envoy; net/http
// would otherwise sniff one and add it back.
func TestRun_removedContentTypeStaysRemoved(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "cfg.json", `{"rules": [{"name": "untyped", "match": {"prefix": "/"},
		"corrupt": {"percent": 100, "response": [{"op": "remove", "name": "content-type"}]}}]}`)
	n := startNedry(t, "--demo", "--config", cfg)
	status, hdr, body := get(t, client(), "GET", n.url("/x"), nil)
	if status != 200 || body == "" {
		t.Fatalf("have %d %q, want the demo's 200 echo", status, body)
	}
	if ct, ok := hdr["Content-Type"]; ok {
		t.Fatalf("content-type %q, want none (removed by the rule)", ct)
	}
}

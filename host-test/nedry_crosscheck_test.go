package hosttest_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"reflect"
	"slices"
	"strings"
	"testing"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// The independent cross-check: the same scenarios run under this harness
// and under proxy-wasm-go-sdk v0.24.0's proxytest emulator, a proxy-wasm host
// written by other people, and both must agree on what the client and the
// upstream see and on every metric. A mistake the harness shares with the
// filter (both written against our own reading of the ABI) shows up here.
//
// How proxytest drives a wasm module (proxywasm/proxytest/wasmwrapper.go):
// NewWasmVMContext instantiates it with wazero's default module config, so
// only _start runs (a Go reactor exports _initialize instead: the copy handed
// to it has that export renamed). Its WASI clock is wazero's fake one, 1 ms
// more at every read, so a delay runs out after a number of clock reads, not
// of virtual milliseconds: the tick count differs between the hosts, the
// outcome must not. It calls proxy_on_context_create for the root before
// proxy_on_vm_start, ends a stream with proxy_on_log only, and runs no
// proxy_on_response_headers on a local reply: the runner below does the last
// as Envoy does, with the headers Envoy's sendLocalReply builds.
//
// proxytest provides no proxy_get_log_level, which Envoy has and Nedry
// imports (to skip fault log lines Envoy would drop). Its copy of the module
// imports WASI fd_sync there instead: same signature, and called with the
// address Nedry passes for the result it answers EBADF without side effects,
// so Nedry sees a failed call and logs every fault line, as it does with any
// host that cannot tell its level.

// crossConfig has one rule per scenario, every percentage 0 or 100 and only
// deterministic corruption ops (no garble), so no outcome depends on a
// random draw, whose source differs between the hosts.
const crossConfig = `{
  "seed": 11,
  "tick": "5ms",
  "response_header": "x-nedry-fault",
  "rules": [
    {"name": "abort", "match": {"prefix": "/abort"},
     "abort": {"percent": 100, "http_status": 503, "body": "cross-check abort", "headers": {"retry-after": "7"}}},
    {"name": "grpc", "match": {"prefix": "/grpc."},
     "abort": {"percent": 100, "http_status": 503, "grpc_status": 14, "body": "unavailable"}},
    {"name": "delay", "match": {"prefix": "/delay"}, "delay": {"percent": 100, "fixed": "20ms"}},
    {"name": "delay_corrupt", "match": {"prefix": "/both"}, "delay": {"percent": 100, "fixed": "10ms"},
     "corrupt": {"percent": 100, "request": [{"op": "set", "name": "x-env", "value": "chaos"}]}},
    {"name": "corrupt", "match": {"prefix": "/corrupt"}, "corrupt": {"percent": 100,
      "request": [{"op": "remove", "name": "authorization"}, {"op": "set", "name": "x-env", "value": "chaos"},
                  {"op": "truncate", "name": "x-long", "length": 3},
                  {"op": "empty", "name": "x-empty-me"}],
      "response": [{"op": "set", "name": "content-type", "value": "text/html"}, {"op": "remove", "name": "etag"},
                   {"op": "status", "value": "502"}]}},
    {"name": "append", "match": {"prefix": "/append"}, "corrupt": {"percent": 100,
      "request": [{"op": "append", "name": "x-multi", "value": "two"}]}},
    {"name": "pass", "match": {"prefix": "/pass"}, "abort": {"percent": 0}}
  ]
}`

// crossScenario is one request and the upstream's answer to it. exercised
// checks, on hosttest's outcome, that the scenario took the path it is named
// after, so two hosts agreeing on a refused config or a rule that never
// matched cannot pass.
type crossScenario struct {
	name      string
	request   [][2]string
	response  hosttest.Response
	exercised func(crossOutcome) bool
}

func crossScenarios() []crossScenario {
	req := func(path string, extra ...[2]string) [][2]string {
		h := [][2]string{{":method", "GET"}, {":path", path}, {":authority", "api.example.com"}, {":scheme", "http"},
			{"authorization", "Bearer secret"}, {"x-multi", "one"}, {"x-long", "abcdefgh"}, {"x-empty-me", "full"}}
		return append(h, extra...)
	}
	upstream := hosttest.Response{Status: 200, Headers: [][2]string{{"content-type", "application/json"}, {"etag", `"v1"`}},
		Body: []byte(`{"ok":true}`)}
	passed := func(o crossOutcome) bool {
		return o.Local == nil && !o.Paused && o.Status == 200 && len(o.Upstream) > 0
	}
	return []crossScenario{
		{"abort", req("/abort/x"), upstream, func(o crossOutcome) bool {
			return o.Local != nil && o.Local.Status == 503 && o.Upstream == nil && o.Status == 503
		}},
		{"grpc_abort", req("/grpc.Service/Call", [2]string{"content-type", "application/grpc"}), upstream, func(o crossOutcome) bool {
			return o.Local != nil && o.Local.GRPCStatus == 14 && o.Upstream == nil && o.Status == 200
		}},
		{"delay", req("/delay/x"), upstream, func(o crossOutcome) bool { return o.Paused && o.Status == 200 }},
		{"delay_then_corrupt", req("/both/x"), upstream, func(o crossOutcome) bool {
			return o.Paused && slices.Equal(crossValues(o.Upstream, "x-env"), []string{"chaos"})
		}},
		{"corrupt", req("/corrupt/x"), upstream, func(o crossOutcome) bool {
			return o.Status == 502 && crossValues(o.Upstream, "authorization") == nil
		}},
		{"corrupt_append", req("/append/x"), upstream, func(o crossOutcome) bool { return len(crossValues(o.Upstream, "x-multi")) == 2 }},
		{"matched_no_fault", req("/pass/x"), upstream, passed},
		{"no_match", req("/elsewhere"), upstream, passed},
	}
}

// crossOutcome is what one host reports for one scenario.
type crossOutcome struct {
	// Local is the plugin's local reply, nil when there was none.
	Local *crossLocal
	// Paused is whether proxy_on_request_headers held the request.
	Paused bool
	// Upstream are the request headers as the upstream saw them, nil when the
	// request never reached it.
	Upstream [][2]string
	// Status and Client are the response as the client saw it.
	Status int
	Client [][2]string
}

type crossLocal struct {
	Status     int
	Body       string
	Headers    [][2]string
	GRPCStatus int32
}

// crossRunHosttest runs the scenarios through this harness.
func crossRunHosttest(t *testing.T, wasm []byte) ([]crossOutcome, *hosttest.Host) {
	t.Helper()
	h, err := hosttest.New(context.Background(), wasm, hosttest.Options{PluginConfig: []byte(crossConfig), Seed: 3})
	if err != nil {
		t.Fatalf("hosttest.New: %v", err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	var outs []crossOutcome
	for _, sc := range crossScenarios() {
		resp := sc.response
		r := h.Do(hosttest.Request{Headers: sc.request, Response: &resp})
		if r.Trap != nil {
			t.Fatalf("hosttest %s: trap: %v", sc.name, r.Trap)
		}
		var o crossOutcome
		if l := r.LocalReply; l != nil {
			o.Local = &crossLocal{Status: l.Status, Body: string(l.Body), Headers: l.Headers, GRPCStatus: l.GRPCStatus}
		}
		o.Paused = r.Held > 0
		if r.Upstream != nil {
			o.Upstream = r.Upstream.Headers
		}
		if r.Response == nil {
			t.Fatalf("hosttest %s: no response (reset %v by %s)", sc.name, r.Reset, r.ResetBy)
		}
		o.Status = r.Response.Status
		o.Client = r.Response.Headers
		outs = append(outs, o)
	}
	return outs, h
}

func TestCrossCheck_proxytest(t *testing.T) {
	wasm, err := hosttest.LoadFile(hosttest.RepoPath("build", "nedry.wasm"))
	if err != nil {
		t.Fatalf("load filter: %v", err)
	}
	ours, h := crossRunHosttest(t, wasm)
	// proxytest echoes every guest log line through the standard logger;
	// the scenarios compare outcomes, so keep that out of the test output
	// unless -v asks for it.
	if !testing.Verbose() {
		prev := log.Writer()
		log.SetOutput(io.Discard)
		t.Cleanup(func() { log.SetOutput(prev) })
	}
	theirs, metric := crossRunProxytest(t, wasm)

	for i, sc := range crossScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			a, b := ours[i], theirs[i]
			if !sc.exercised(a) {
				t.Fatalf("hosttest outcome does not show the scenario's path: %+v", a)
			}
			if known, ok := crossKnownDifferences[sc.name]; ok {
				known(t, &a, &b)
			}
			if !reflect.DeepEqual(a.Local, b.Local) {
				t.Errorf("local reply: hosttest %s, proxytest %s", crossFmt(a.Local), crossFmt(b.Local))
			}
			if a.Paused != b.Paused {
				t.Errorf("paused: hosttest %v, proxytest %v", a.Paused, b.Paused)
			}
			if !reflect.DeepEqual(a.Upstream, b.Upstream) {
				t.Errorf("upstream request headers:\n hosttest  %q\n proxytest %q", a.Upstream, b.Upstream)
			}
			if a.Status != b.Status {
				t.Errorf("client status: hosttest %d, proxytest %d", a.Status, b.Status)
			}
			if !reflect.DeepEqual(a.Client, b.Client) {
				t.Errorf("client response headers:\n hosttest  %q\n proxytest %q", a.Client, b.Client)
			}
		})
	}

	t.Run("metrics", func(t *testing.T) {
		all := h.Metrics()
		names := make([]string, 0, len(all))
		for n := range all {
			names = append(names, n)
		}
		slices.Sort(names)
		if len(names) == 0 {
			t.Fatal("hosttest: the filter defined no metric")
		}
		injected := 0
		for _, n := range names {
			m := all[n]
			have, err := metric(n, m.Type)
			if err != nil {
				t.Errorf("%s: hosttest %d, proxytest: %v", n, m.Value, err)
				continue
			}
			if have != m.Value {
				t.Errorf("%s: hosttest %d, proxytest %d", n, m.Value, have)
			}
			injected += int(m.Value)
			if m.Value != 0 {
				t.Logf("%s = %d on both hosts", n, m.Value)
			}
		}
		// Agreement on all zeros would prove nothing.
		if injected == 0 {
			t.Fatalf("every metric is 0 on both hosts: %v", names)
		}
	})
}

// crossKnownDifferences are the places where proxytest is known not to
// behave as Envoy does. Each entry proves the difference (it fails if either
// host stops showing it, so a fixed proxytest is noticed), then removes it
// from both outcomes so everything else is still compared.
var crossKnownDifferences = map[string]func(t *testing.T, ours, theirs *crossOutcome){
	// proxy_add_header_map_value: Envoy's Context::addHeaderMapValue calls
	// HeaderMap::addCopy, which for a header outside Envoy's inline set (as
	// x-multi) inserts another entry, so the upstream sees x-multi twice.
	// proxytest v0.24.0 (addMapValue in proxytest/http.go) concatenates the
	// value onto the first entry with no separator: "onetwo".
	"corrupt_append": func(t *testing.T, ours, theirs *crossOutcome) {
		t.Helper()
		if have := crossValues(ours.Upstream, "x-multi"); !reflect.DeepEqual(have, []string{"one", "two"}) {
			t.Errorf("hosttest x-multi upstream: have %q, want [one two] as Envoy's addCopy", have)
		}
		if have := crossValues(theirs.Upstream, "x-multi"); !reflect.DeepEqual(have, []string{"onetwo"}) {
			t.Errorf("proxytest x-multi upstream: have %q, want its known concatenation [onetwo]", have)
		}
		ours.Upstream = crossWithout(ours.Upstream, "x-multi")
		theirs.Upstream = crossWithout(theirs.Upstream, "x-multi")
	},
	// proxy_replace_header_map_value: Envoy's HeaderMap::setCopy removes
	// every value of the key and adds the new one at the end (since Envoy
	// 1.16), so the headers truncate and empty rewrite (x-long, x-empty-me)
	// move behind x-env, which set added. proxytest v0.24.0 (replaceMapValue
	// in proxytest/http.go) overwrites the value in place. The values must
	// still agree; only the order of different names is set aside.
	"corrupt": func(t *testing.T, ours, theirs *crossOutcome) {
		t.Helper()
		if !(crossIndex(ours.Upstream, "x-env") < crossIndex(ours.Upstream, "x-long")) {
			t.Errorf("hosttest upstream: want x-long moved behind x-env by setCopy, have %q", ours.Upstream)
		}
		if !(crossIndex(theirs.Upstream, "x-long") < crossIndex(theirs.Upstream, "x-env")) {
			t.Errorf("proxytest upstream: want x-long left in place before x-env, have %q", theirs.Upstream)
		}
		byName := func(a, b [2]string) int { return strings.Compare(a[0], b[0]) }
		slices.SortStableFunc(ours.Upstream, byName)
		slices.SortStableFunc(theirs.Upstream, byName)
	},
}

// crossIndex returns the position of the first header named name, or -1.
func crossIndex(h [][2]string, name string) int {
	for i, kv := range h {
		if kv[0] == name {
			return i
		}
	}
	return -1
}

func crossValues(h [][2]string, name string) []string {
	var out []string
	for _, kv := range h {
		if kv[0] == name {
			out = append(out, kv[1])
		}
	}
	return out
}

func crossWithout(h [][2]string, name string) [][2]string {
	var out [][2]string
	for _, kv := range h {
		if kv[0] != name {
			out = append(out, kv)
		}
	}
	return out
}

func crossFmt(l *crossLocal) string {
	if l == nil {
		return "none"
	}
	return fmt.Sprintf("%+v", *l)
}

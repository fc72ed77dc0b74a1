package hosttest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// guest loads build/guests/<name>.wasm; a missing file fails and names the
// make target.
func guest(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(RepoPath("build", "guests", name+".wasm"))
	if err != nil {
		t.Fatalf("load guest %s: %v: run make guests", name, err)
	}
	return b
}

func newHost(t testing.TB, name string, opts Options) *Host {
	t.Helper()
	h, err := New(context.Background(), guest(t, name), opts)
	if err != nil {
		t.Fatalf("New(%s): %v", name, err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

func req(headers ...string) Request {
	var r Request
	for i := 0; i+1 < len(headers); i += 2 {
		r.Headers = append(r.Headers, [2]string{headers[i], headers[i+1]})
	}
	return r
}

func values(h [][2]string, key string) []string {
	var out []string
	for _, kv := range h {
		if kv[0] == key {
			out = append(out, kv[1])
		}
	}
	return out
}

func mustNoTrap(t *testing.T, r Result) {
	t.Helper()
	if r.Trap != nil {
		t.Fatalf("unexpected trap: %v", r.Trap)
	}
}

func TestLoadFile_missing(t *testing.T) {
	_, err := LoadFile("does/not/exist.wasm")
	if err == nil || !strings.Contains(err.Error(), "does/not/exist.wasm not found: run make build") || !errors.Is(err, ErrNotFound) {
		t.Fatalf("have %v, want \"... not found: run make build\"", err)
	}
}

func TestNew_loadingErrors(t *testing.T) {
	tests := []struct {
		name, guest, want string
	}{
		{"no ABI version export", "noabi", "missing or unknown Proxy-Wasm ABI version"},
		{"forbidden hostcall in _initialize", "initcall", "restricted_callback"},
		{"not wasm", "", "compile module"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wasm := []byte("not wasm")
			if tc.guest != "" {
				wasm = guest(t, tc.guest)
			}
			h, err := New(context.Background(), wasm, Options{})
			if err == nil {
				h.Close(context.Background())
				t.Fatalf("New succeeded, want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("have %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	h := newHost(t, "headers", Options{})
	tests := []struct {
		name  string
		req   Request
		check func(t *testing.T, r Result)
	}{
		{"add keeps repeated keys in order", req("x-op", "add", "x-multi", "1"), func(t *testing.T, r Result) {
			if got := values(r.Upstream.Headers, "x-multi"); strings.Join(got, ",") != "1,2" {
				t.Fatalf("x-multi: have %v, want [1 2]", got)
			}
		}},
		// Envoy's setCopy since 1.16: every value replaced by one, moved to
		// the end of the map.
		{"replace leaves one value at the end and adds a missing key", req("x-op", "replace", "x-multi", "1", "x-multi", "2", "x-after", "a"), func(t *testing.T, r Result) {
			if got := values(r.Upstream.Headers, "x-multi"); strings.Join(got, ",") != "replaced" {
				t.Fatalf("x-multi: have %v, want [replaced]", got)
			}
			if last := r.Upstream.Headers[len(r.Upstream.Headers)-1]; last[0] != "x-multi" && last[0] != "x-new" {
				t.Fatalf("replaced key not at the end: headers %q", r.Upstream.Headers)
			}
			if v, _ := r.Upstream.Header("x-new"); v != "added" {
				t.Fatalf("x-new: have %q, want added", v)
			}
		}},
		{"remove removes every value", req("x-op", "remove", "x-multi", "1", "x-multi", "2"), func(t *testing.T, r Result) {
			if got := values(r.Upstream.Headers, "x-multi"); len(got) != 0 {
				t.Fatalf("x-multi: have %v, want none", got)
			}
			if v, _ := r.Upstream.Header("x-result-remove-missing"); v != "0" {
				t.Fatalf("remove of a missing key: have %s, want 0 (Ok)", v)
			}
		}},
		{"get of a repeated key answers the first value, as Envoy", req("x-op", "get-first", "x-multi", "one", "x-other", "o", "x-multi", "two"), func(t *testing.T, r Result) {
			if v := hv(r, "x-result-first"); v != "one" {
				t.Fatalf("have %q, want the first value (one)", v)
			}
		}},
		{"missing key is NotFound", req("x-op", "missing"), func(t *testing.T, r Result) {
			if v, _ := r.Upstream.Header("x-result-missing"); v != "1" {
				t.Fatalf("have %s, want 1", v)
			}
		}},
		{"pairs format and byte size", req("x-op", "pairs"), func(t *testing.T, r Result) {
			// :method GET, :path /, :authority example.com, :scheme http, x-op pairs
			count, bytes, size, layout := hv(r, "x-result-count"), hv(r, "x-result-bytes"), hv(r, "x-result-size"), hv(r, "x-result-layout")
			keys := 7 + 5 + 10 + 7 + 4
			vals := 3 + 1 + 11 + 4 + 5
			if count != "5" || bytes != itoa(4+5*8+keys+vals+10) || size != itoa(keys+vals) || layout != "ok" {
				t.Fatalf("count %s bytes %s size %s layout %s", count, bytes, size, layout)
			}
		}},
		{"set pairs replaces the map", req("x-op", "set-pairs", "x-gone", "1"), func(t *testing.T, r Result) {
			if len(r.Upstream.Headers) != 2 || hv(r, "a") != "bb" || hv(r, ":path") != "/" {
				t.Fatalf("have %v", r.Upstream.Headers)
			}
		}},
		{"map type out of range is BadArgument", req("x-op", "bad-type"), func(t *testing.T, r Result) {
			if v := hv(r, "x-result-bad-type"); v != "2" {
				t.Fatalf("have %s, want 2", v)
			}
		}},
		{"request map answers BadArgument in proxy_on_response_headers", req(), func(t *testing.T, r Result) {
			if v := r.Header("x-request-map-status"); v != "2" {
				t.Fatalf("have %q, want 2", v)
			}
			if v := r.Header("x-seen-status"); v != "200" {
				t.Fatalf("response :status seen by the guest: %q", v)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.Do(tc.req)
			mustNoTrap(t, r)
			if r.Upstream == nil {
				t.Fatal("request never reached the upstream")
			}
			tc.check(t, r)
		})
	}
}

func hv(r Result, key string) string {
	v, _ := r.Upstream.Header(key)
	return v
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestHeaders_strictMisuse(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"CR LF in a value", req("x-op", "bad-bytes"), "invalid header bytes"},
		{"write after the headers went on", Request{Headers: [][2]string{{"x-op", "write-after-continue"}}, Body: []byte("b")}, "after they went on"},
		{"out-of-bounds memory", req("x-op", "oob"), "out of bounds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t, "headers", Options{})
			r := h.Do(tc.req)
			if r.Trap == nil || !strings.Contains(r.Trap.Error(), tc.want) {
				t.Fatalf("trap: have %v, want one containing %q", r.Trap, tc.want)
			}
			if r.LocalReply == nil || r.LocalReply.Status != 503 || r.LocalReply.Details != "wasm_fail_stream" {
				t.Fatalf("fail closed: have %+v", r.LocalReply)
			}
		})
	}
}

func TestHeaders_lenientAnswersStatus(t *testing.T) {
	h := newHost(t, "headers", Options{Lenient: true})
	r := h.Do(req("x-op", "bad-bytes"))
	mustNoTrap(t, r)
	if _, ok := r.Upstream.Header("x-evil"); ok {
		t.Fatal("invalid header reached the upstream")
	}
}

func TestBuffers(t *testing.T) {
	h := newHost(t, "buffers", Options{VMConfig: []byte("vmcfg"), PluginConfig: []byte("plugin")})
	r := h.Do(Request{Body: []byte("hello"), Response: &Response{Status: 200, Body: []byte("resp")}})
	mustNoTrap(t, r)
	if v := hv(r, "x-body-status"); v != "1" {
		t.Fatalf("request body outside its callback: have %s, want 1 (NotFound)", v)
	}
	if v := hv(r, "x-config-status"); v != "1" {
		t.Fatalf("plugin configuration outside proxy_on_configure: have %s, want 1", v)
	}
	if string(r.Upstream.Body) != "replaced:hello" {
		t.Fatalf("upstream body: have %q", r.Upstream.Body)
	}
	if string(r.Response.Body) != "resp+tail" {
		t.Fatalf("response body: have %q", r.Response.Body)
	}
	want := []string{"vm_config=vmcfg", "config=plugin", "body=hello part=llo past= ptr=0 status=0"}
	logs := h.Logs()
	for _, w := range want {
		found := false
		for _, l := range logs {
			found = found || l.Message == w
		}
		if !found {
			t.Fatalf("missing log %q in %v", w, logs)
		}
	}
}

func TestProperties(t *testing.T) {
	h := newHost(t, "properties", Options{NodeID: "node-1", VMID: "vm", Properties: map[string]string{"xds.cluster_name": "default"}})
	r := h.Do(Request{
		Headers:    [][2]string{{":path", "/a/b?q=1"}, {":method", "POST"}, {"x-props", "request.path,request.url_path,request.method,request.host,request.scheme,xds.cluster_name,xds.route_name,plugin_name,plugin_vm_id,node.id,no.such.thing"}},
		Properties: map[string]string{"xds.route_name": "r1"},
	})
	mustNoTrap(t, r)
	want := map[string]string{
		"request.path": "/a/b?q=1", "request.url_path": "/a/b", "request.method": "POST", "request.host": "example.com",
		"request.scheme": "http", "xds.cluster_name": "default", "xds.route_name": "r1", "plugin_name": "nedry",
		"plugin_vm_id": "vm", "node.id": "node-1", "no.such.thing": "!1",
	}
	for k, v := range want {
		if got := hv(r, "x-prop-"+k); got != v {
			t.Errorf("%s: have %q, want %q", k, got, v)
		}
	}
}

func TestMetrics(t *testing.T) {
	h := newHost(t, "metrics", Options{Workers: 2, Lenient: true})
	for i := 0; i < 4; i++ {
		mustNoTrap(t, h.Do(Request{}))
	}
	m := h.Metrics()
	if m["test.requests"].Value != 4 || m["test.requests"].Type != MetricCounter {
		t.Fatalf("counter: have %+v, want 4 across both workers", m["test.requests"])
	}
	if m["test.active"].Value != 0 {
		t.Fatalf("gauge: have %d, want 0", m["test.active"].Value)
	}
	if len(m["test.sizes"].Histogram) != 4 || m["test.sizes"].Histogram[0] != 42 {
		t.Fatalf("histogram: have %v", m["test.sizes"].Histogram)
	}
	r := h.Do(Request{})
	if hv(r, "x-hist-get") != "2" {
		t.Fatalf("proxy_get_metric on a histogram: have %s, want 2", hv(r, "x-hist-get"))
	}
	if hv(r, "x-count") != "5" && hv(r, "x-count") != "3" {
		t.Fatalf("proxy_get_metric: have %s", hv(r, "x-count"))
	}
	if hv(r, "x-unknown-get") != "1" {
		t.Fatalf("lenient proxy_get_metric of an unknown id: have %s, want 1 (NotFound)", hv(r, "x-unknown-get"))
	}
	strict := newHost(t, "metrics", Options{})
	if r := strict.Do(Request{}); r.Trap == nil || !strings.Contains(r.Trap.Error(), "unknown metric id 9999") {
		t.Fatalf("strict: proxy_get_metric of an unknown id must trap, have %v", r.Trap)
	}
	found := false
	for _, l := range h.Logs() {
		found = found || l.Message == "bad type status=2"
	}
	if !found {
		t.Fatal("proxy_define_metric with type 3 did not answer BadArgument")
	}
}

func TestLogging(t *testing.T) {
	for _, level := range []LogLevel{LogLevelTrace, LogLevelWarn} {
		t.Run(level.String(), func(t *testing.T) {
			h := newHost(t, "logging", Options{LogLevel: level})
			r := h.Do(Request{})
			mustNoTrap(t, r)
			var got []string
			for _, l := range r.Logs {
				got = append(got, l.Level.String()+":"+l.Message)
			}
			want := []string{"trace:level-0", "debug:level-1", "info:level-2", "warn:level-3", "error:level-4", "critical:level-5", "info:to stdout", "error:to stderr"}
			var keep []string
			for _, w := range want {
				lv := w[:strings.IndexByte(w, ':')]
				for l := level; l <= LogLevelCritical; l++ {
					if l.String() == lv {
						keep = append(keep, w)
					}
				}
			}
			if strings.Join(got, "|") != strings.Join(keep, "|") {
				t.Fatalf("have %v, want %v", got, keep)
			}
			if hv(r, "x-log-level") != itoa(int(level)) || hv(r, "x-log-6") != "2" {
				t.Fatalf("log level %s, level 6 status %s", hv(r, "x-log-level"), hv(r, "x-log-6"))
			}
		})
	}
}

// proxy_set_property stores into the stream's filter state under "wasm."
// and the path as given (NULs included, as Envoy's setProperty keeps it),
// a later proxy_get_property finds it, the Result shows it, and a root
// context (no stream info in Envoy) gets NotFound.
func TestSetProperty(t *testing.T) {
	h := newHost(t, "properties", Options{})
	r := h.Do(Request{Headers: [][2]string{{":path", "/"},
		{"x-set-props", "nedry=payments; abort,other=2,nedry=payments; delay"}, {"x-props", "nedry,other,wasm.nedry"}}})
	mustNoTrap(t, r)
	for k, v := range map[string]string{"x-set-nedry": "0", "x-set-other": "0",
		"x-prop-nedry": "payments; delay", "x-prop-other": "2", "x-prop-wasm.nedry": "!1"} {
		if got := hv(r, k); got != v {
			t.Errorf("%s: have %q, want %q", k, got, v)
		}
	}
	want := map[string]string{"wasm.nedry": "payments; delay", "wasm.other": "2"}
	if fmt.Sprint(r.FilterState) != fmt.Sprint(want) {
		t.Fatalf("FilterState %v, want %v", r.FilterState, want)
	}
	if r2 := h.Do(Request{Headers: [][2]string{{":path", "/"}}}); r2.FilterState != nil {
		t.Fatalf("a stream that set nothing has filter state %v", r2.FilterState)
	}
	h.Advance(10 * time.Millisecond)
	found := false
	for _, l := range h.Logs() {
		found = found || l.Message == "root set_property=1"
	}
	if !found {
		t.Fatalf("root context: want NotFound (1) logged, logs %v", h.Logs())
	}
}

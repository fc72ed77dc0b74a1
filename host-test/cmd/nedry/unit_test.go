package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

func TestParseRoute(t *testing.T) {
	tests := []struct {
		in      string
		want    route
		wantErr string
	}{
		{in: "payments=/pay", want: route{name: "payments", prefix: "/pay"}},
		{in: " search = /search/ ", want: route{name: "search", prefix: "/search/"}},
		{in: "all=/", want: route{name: "all", prefix: "/"}},
		{in: "payments", wantErr: `"payments": want NAME=PREFIX`},
		{in: "=/pay", wantErr: `"=/pay": empty route name`},
		{in: "payments=pay", wantErr: `"payments=pay": prefix must start with /, got "pay"`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			have, err := parseRoute(tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("have error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || have != tc.want {
				t.Fatalf("have %+v, %v, want %+v", have, err, tc.want)
			}
		})
	}
}

func TestRouteTable_match(t *testing.T) {
	table := routeTable{{name: "exact-first", prefix: "/pay/refunds"}, {name: "payments", prefix: "/pay"}, {name: "root", prefix: "/api/"}}
	tests := []struct{ path, want string }{
		{"/pay/refunds/1", "exact-first"},
		{"/pay/x", "payments"},
		{"/payments", "payments"},
		{"/api/v1", "root"},
		{"/api", defaultRouteName},
		{"/", defaultRouteName},
	}
	for _, tc := range tests {
		if have := table.match(tc.path, ""); have != tc.want {
			t.Errorf("match(%q): have %q, want %q", tc.path, have, tc.want)
		}
	}
	if have := (routeTable{}).match("/x", ""); have != defaultRouteName {
		t.Errorf("empty table: have %q, want %q", have, defaultRouteName)
	}
}

func TestReadRoutes(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "routes.txt", "# routes\n\npayments=/pay\n  search=/search\n")
	have, err := readRoutes(good)
	if want := (routeTable{{name: "payments", prefix: "/pay"}, {name: "search", prefix: "/search"}}); err != nil || !slices.Equal(have, want) {
		t.Fatalf("have %v, %v, want %v", have, err, want)
	}
	bad := writeFile(t, dir, "bad.txt", "payments=/pay\nnope\n=/x\n")
	_, err = readRoutes(bad)
	want := bad + `:2: "nope": want NAME=PREFIX` + "\n" + bad + `:3: "=/x": empty route name`
	if err == nil || err.Error() != want {
		t.Fatalf("have %v, want every bad line:\n%s", err, want)
	}
	if _, err := readRoutes(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Fatalf("missing file: have %v", err)
	}
}

func TestPromName(t *testing.T) {
	tests := []struct{ in, name, rule string }{
		{"nedry.rule.payments.aborts_injected", "nedry_rule_aborts_injected", "payments"},
		{"nedry.rule.a-b.matched", "nedry_rule_matched", "a-b"},
		{"nedry.active_faults", "nedry_active_faults", ""},
		{"nedry.config_rejected", "nedry_config_rejected", ""},
		{"other-metric.x", "other_metric_x", ""},
	}
	for _, tc := range tests {
		name, rule := promName(tc.in)
		if name != tc.name || rule != tc.rule {
			t.Errorf("promName(%q): have %q %q, want %q %q", tc.in, name, rule, tc.name, tc.rule)
		}
	}
}

func TestStatsFormats(t *testing.T) {
	m := map[string]hosttest.Metric{
		"nedry.rule.b.aborts_injected": {Type: hosttest.MetricCounter, Value: 2},
		"nedry.rule.a.aborts_injected": {Type: hosttest.MetricCounter, Value: 5},
		"nedry.active_faults":          {Type: hosttest.MetricGauge, Value: 1},
		"nedry.latency":                {Type: hosttest.MetricHistogram, Value: 2, Histogram: []uint64{3, 4}},
	}
	wantText := "nedry.active_faults: 1\nnedry.latency: 2\nnedry.rule.a.aborts_injected: 5\nnedry.rule.b.aborts_injected: 2\n"
	if have := statsText(m); have != wantText {
		t.Errorf("statsText:\nhave\n%s\nwant\n%s", have, wantText)
	}
	wantProm := `# TYPE nedry_active_faults gauge
nedry_active_faults 1
# TYPE nedry_latency summary
nedry_latency_count 2
nedry_latency_sum 7
# TYPE nedry_rule_aborts_injected counter
nedry_rule_aborts_injected{nedry_rule="a"} 5
nedry_rule_aborts_injected{nedry_rule="b"} 2
`
	if have := statsPrometheus(m); have != wantProm {
		t.Errorf("statsPrometheus:\nhave\n%s\nwant\n%s", have, wantProm)
	}
}

// TestFaultLine: the per-interval line counts each kind of fault injected
// since the previous reading, summed over rules and header control, and
// the copies of the duplicate fault sent and failed.
func TestFaultLine(t *testing.T) {
	type metrics = map[string]hosttest.Metric
	two := func(abort, delay, matched int64) metrics {
		return metrics{
			"nedry.rule.a.aborts_injected": {Value: abort},
			"nedry.rule.b.aborts_injected": {Value: abort},
			"nedry.rule.b.delays_injected": {Value: delay},
			"nedry.rule.a.matched":         {Value: matched},
			"nedry.active_faults":          {Value: 99},
		}
	}
	dup := func(sent, failed, other, matched int64) metrics {
		return metrics{
			"nedry.rule.pay.duplicates_sent":      {Value: sent},
			"nedry.rule.pay.duplicates_failed":    {Value: failed},
			"nedry.rule.pay.duplicates_too_large": {Value: other},
			"nedry.rule.pay.duplicates_dropped":   {Value: other},
			"nedry.rule.pay.matched":              {Value: matched},
		}
	}
	tests := []struct {
		name      string
		prev, cur metrics
		want      string
	}{
		{"summed over rules", two(1, 1, 10), two(4, 2, 30), "6 aborts, 1 delay (20 requests matched)"},
		{"no new faults", two(4, 2, 30), two(4, 2, 35), ""},
		// Header-controlled faults count as faults; one request is singular.
		{"header control", nil, metrics{
			"nedry.header_control.aborts_injected": {Value: 1},
			"nedry.header_control.matched":         {Value: 1},
		}, "1 abort (1 request matched)"},
		{"duplicates", dup(1, 0, 0, 3), dup(4, 2, 0, 7), "3 duplicates sent, 2 duplicates failed (4 requests matched)"},
		{"one duplicate", dup(4, 2, 0, 7), dup(5, 3, 0, 8), "1 duplicate sent, 1 duplicate failed (1 request matched)"},
		// A copy goes out after its original: its interval may match nothing.
		{"copy of an earlier request", dup(0, 0, 0, 1), dup(1, 0, 0, 1), "1 duplicate sent (0 requests matched)"},
		// Requests not duplicated are counted, but no copy was sent.
		{"too large or dropped", dup(0, 0, 0, 1), dup(0, 0, 3, 4), ""},
		{"all kinds", nil, metrics{
			"nedry.rule.a.aborts_injected":      {Value: 1},
			"nedry.rule.a.delays_injected":      {Value: 2},
			"nedry.rule.a.corruptions_injected": {Value: 3},
			"nedry.rule.a.resets_injected":      {Value: 4},
			"nedry.rule.a.duplicates_sent":      {Value: 5},
			"nedry.rule.a.duplicates_failed":    {Value: 6},
			"nedry.rule.a.faults_overflow":      {Value: 7},
			"nedry.rule.a.matched":              {Value: 9},
		}, "1 abort, 2 delays, 3 corruptions, 4 resets, 5 duplicates sent, 6 duplicates failed, 7 overflows (9 requests matched)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, pm := faultTotals(tc.prev)
			c, cm := faultTotals(tc.cur)
			if have := faultLine(p, c, cm-pm); have != tc.want {
				t.Fatalf("have %q, want %q", have, tc.want)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	tests := []struct{ cfg, want string }{
		{`{}`, "0 rules, no header control: nothing is injected"},
		{`{"rules": [{"name": "a", "abort": {"percent": 10}}]}`, "1 rule (a: abort 10%)"},
		{`{"enabled": false, "dry_run": true, "header_control": {"enabled": true}, "rules": [{"name": "a", "delay": {"percent": 1.5}, "reset": {"percent": 2}}, {"name": "b", "corrupt": {}}]}`,
			"2 rules (a: delay 1.5%+reset 2%, b: corrupt), kill switch on (enabled: false): nothing is injected"},
		{`{"dry_run": true, "rules": [{"name": "a", "abort": {"percent": 10}}]}`, "1 rule (a: abort 10%), dry run: faults are counted, not injected"},
		{`{"header_control": {"enabled": true, "secret": "s", "max_delay": "5s"}, "rules": []}`,
			"0 rules, header control on (x-nedry-secret required, max delay 5s)"},
		{`{"header_control": {"enabled": true}, "dry_run": true}`,
			"0 rules, header control on (no secret: any request, max delay 10s), dry run: faults are counted, not injected"},
		{`{"header_control": {"enabled": false}, "rules": []}`, "0 rules, no header control: nothing is injected"},
	}
	for _, tc := range tests {
		if have := summary([]byte(tc.cfg)); have != tc.want {
			t.Errorf("summary(%s): have %q, want %q", tc.cfg, have, tc.want)
		}
	}
}

func TestRequestHeaders(t *testing.T) {
	r := httptest.NewRequest("POST", "http://api.example.com/pay?x=1", nil)
	r.Header.Set("Connection", "keep-alive")
	r.Header.Set("X-Request-Id", "abc")
	r.Header.Add("Accept", "a")
	r.Header.Add("Accept", "b")
	have, id := requestHeaders(r)
	want := [][2]string{
		{":authority", "api.example.com"}, {":path", "/pay?x=1"}, {":method", "POST"}, {":scheme", "http"},
		{"accept", "a"}, {"accept", "b"}, {"x-request-id", "abc"},
	}
	if id != "abc" || !slices.Equal(have, want) {
		t.Fatalf("have %q %q, want %q abc", have, id, want)
	}
	r.Header.Del("X-Request-Id")
	have, id = requestHeaders(r)
	if len(id) != 36 || have[len(have)-1] != [2]string{"x-request-id", id} {
		t.Fatalf("without x-request-id: have %q %q, want a generated UUID added", have, id)
	}
}

func TestWriteResponse(t *testing.T) {
	tests := []struct {
		name       string
		resp       hosttest.Response
		head       bool
		wantStatus int
		wantHeader http.Header
		wantBody   string
	}{
		{"plain", hosttest.Response{Status: 201, Headers: [][2]string{{"x-a", "1"}, {"x-a", "2"}, {"content-length", "999"}, {"connection", "close"}}, Body: []byte("hi")},
			false, 201, http.Header{"X-A": {"1", "2"}, "Content-Length": {"2"}}, "hi"},
		{"status header wins", hosttest.Response{Status: 200, Headers: [][2]string{{":status", "502"}}},
			false, 502, http.Header{"Content-Length": {"0"}}, ""},
		{"invalid status", hosttest.Response{Status: 200, Headers: [][2]string{{":status", "99"}, {"x-a", "1"}}},
			false, 502, nil, "nedry: invalid response status 99\n"},
		{"informational status", hosttest.Response{Status: 200, Headers: [][2]string{{":status", "103"}}},
			false, 502, nil, "nedry: invalid response status 103\n"},
		{"204 has no content nor length", hosttest.Response{Status: 204, Headers: [][2]string{{"content-length", "2"}, {"x-a", "1"}}, Body: []byte("hi")},
			false, 204, http.Header{"X-A": {"1"}}, ""},
		{"status op to 204", hosttest.Response{Status: 200, Headers: [][2]string{{":status", "204"}, {"content-length", "2"}}, Body: []byte("hi")},
			false, 204, http.Header{}, ""},
		{"304 has no content nor length", hosttest.Response{Status: 200, Headers: [][2]string{{":status", "304"}, {"etag", `"x"`}}, Body: []byte("hi")},
			false, 304, http.Header{"Etag": {`"x"`}}, ""},
		{"head keeps the length", hosttest.Response{Status: 200, Headers: [][2]string{{"content-length", "1234"}}},
			true, 200, http.Header{"Content-Length": {"1234"}}, ""},
		{"head: a local reply's own length wins", hosttest.Response{Status: 503, Headers: [][2]string{{"content-length", "5"}, {"content-length", "999"}}},
			true, 503, http.Header{"Content-Length": {"5"}}, ""},
		{"head without length", hosttest.Response{Status: 200, Headers: [][2]string{{"content-length", "12x"}}},
			true, 200, http.Header{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			writeResponse(w, &tc.resp, tc.head)
			if w.Code != tc.wantStatus || w.Body.String() != tc.wantBody {
				t.Fatalf("have %d %q, want %d %q", w.Code, w.Body, tc.wantStatus, tc.wantBody)
			}
			for k, v := range tc.wantHeader {
				if !slices.Equal(w.Header()[k], v) {
					t.Fatalf("header %s: have %q, want %q", k, w.Header()[k], v)
				}
			}
			// A nil entry is never sent: it only stops net/http from
			// adding that header (content-type).
			sent := w.Header().Clone()
			for k, v := range sent {
				if v == nil {
					delete(sent, k)
				}
			}
			if tc.wantHeader != nil && len(sent) != len(tc.wantHeader) {
				t.Fatalf("headers: have %v, want %v", w.Header(), tc.wantHeader)
			}
		})
	}
}

func TestParseRunFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--config", "c", "--demo"}, ""},
		{[]string{"--demo"}, "--config is required"},
		{[]string{"--config", "c"}, "give exactly one of --upstream URL and --demo"},
		{[]string{"--config", "c", "--demo", "--upstream", "http://x"}, "give exactly one of --upstream URL and --demo"},
		{[]string{"--config", "c", "--demo", "--workers", "0"}, "--workers: must be at least 1, got 0"},
		{[]string{"--config", "c", "--demo", "extra"}, `unexpected argument "extra"`},
		{[]string{"--config", "c", "--demo", "--max-body", "1000", "--max-buffered", "3999"}, "--max-buffered: must be at least 4 × --max-body (4000), got 3999"},
		{[]string{"--config", "c", "--demo", "--max-connections", "0"}, "--max-connections: must be at least 1, got 0"},
		{[]string{"--config", "c", "--demo", "--max-http-calls", "0"}, "--max-http-calls: must be at least 1, got 0"},
		{[]string{"--config", "c", "--demo", "--request-timeout", "-1s"}, "--request-timeout and --stream-idle-timeout: must not be negative"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			o, err := parseRunFlags(tc.args, &strings.Builder{})
			if tc.wantErr == "" {
				if err != nil || o.workers < 1 || o.workers > 4 || o.listen != "127.0.0.1:10000" || o.admin != "127.0.0.1:9901" ||
					o.maxBuffered != 512<<20 || o.maxConnections != 1024 || o.maxHTTPCalls != 1024 || o.requestTimeout != time.Minute || o.idleTimeout != 5*time.Minute {
					t.Fatalf("have %+v, %v", o, err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("have %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestTryCommands(t *testing.T) {
	cfg := `{"rules": [
	  {"name": "a", "match": {"prefix": "/abort"}, "abort": {"percent": 100}},
	  {"name": "r", "match": {"route_name": "payments", "methods": ["POST"]}, "delay": {"percent": 5}},
	  {"name": "x", "match": {"regex": "^/x$"}, "reset": {"percent": 1}},
	  {"name": "h", "match": {"headers": [{"name": "x-group", "exact": "beta"}]}, "abort": {"percent": 50}},
	  {"name": "gone", "match": {"route_name": "unknown"}, "abort": {"percent": 50}},
	  {"name": "d", "match": {"route_name": "payments", "methods": ["POST"]}, "duplicate": {"percent": 20}}
	]}`
	have := tryCommands([]byte(cfg), routeTable{{name: "payments", prefix: "/pay"}}, "127.0.0.1:1", 6)
	want := []string{
		"curl -i http://127.0.0.1:1/abort   # a: abort 100%",
		"curl -i -X POST http://127.0.0.1:1/pay   # r: delay 5%",
		"curl -i -H 'x-group: beta' http://127.0.0.1:1/   # h: abort 50%",
		`curl -i -X POST -H "idempotency-key: try-$(date +%s)" http://127.0.0.1:1/pay   # d: duplicate 20% (README: Is this endpoint idempotent?)`,
	}
	if !slices.Equal(have, want) {
		t.Fatalf("have\n%s\nwant\n%s", strings.Join(have, "\n"), strings.Join(want, "\n"))
	}
}

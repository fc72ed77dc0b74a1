package hosttest_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// The fuzz targets reuse one Host per process: the module is compiled once,
// and each input costs a config push (FuzzConfig) or one request
// (FuzzRequestHeaders), so an iteration takes milliseconds.

var (
	fuzzHosts   = map[string]*hosttest.Host{}
	fuzzHostsMu sync.Mutex
)

// fuzzHost returns the process's host for key, started with cfg on first use.
func fuzzHost(t testing.TB, key, cfg string) *hosttest.Host {
	t.Helper()
	fuzzHostsMu.Lock()
	defer fuzzHostsMu.Unlock()
	if h := fuzzHosts[key]; h != nil {
		return h
	}
	h, err := hosttest.New(context.Background(), nedry(t), hosttest.Options{Seed: 1, PluginConfig: []byte(cfg)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	fuzzHosts[key] = h
	return h
}

const invalidPrefix = "nedry: invalid configuration: "

// namesPath reports whether a problem line starts with a JSON path: the
// document ("config"), or a key, possibly quoted, with indexes and fields.
func namesPath(line string) bool {
	rest, ok := strings.CutPrefix(line, invalidPrefix)
	if !ok {
		return false
	}
	i := strings.Index(rest, ": ")
	if i <= 0 {
		return false
	}
	path := rest[:i]
	if path == "config" || strings.HasPrefix(path, "[\"") {
		return true
	}
	c := path[0]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// FuzzConfig pushes random configurations: none may trap the guest; every
// refused one comes with at least one error line naming a JSON path; an
// accepted one serves a request to its end without a trap.
func FuzzConfig(f *testing.F) {
	seeds := []string{
		``, `{}`, `null`, `[]`, `1`, `"x"`, `{"rules": null}`, `{"rules": [{}]}`, `{"rules": [null]}`,
		`{"enabled": false, "dry_run": true, "seed": 18446744073709551615, "tick": "1s", "max_active_faults": 1}`,
		`{"seed": 18446744073709551616}`, `{"seed": -1}`, `{"seed": 1.5}`, `{"tick": "1h"}`, `{"tick": 5}`,
		`{"response_header": ""}`, `{"response_header": "X-Up"}`, `{"response_header": ":status"}`,
		`{"header_control": {"enabled": true, "secret": "a b", "max_delay": "0s"}}`,
		`{"rules": [{"name": "a", "abort": {"percent": 100, "http_status": 599, "grpc_status": 16, "body": "", "headers": {"retry-after": "1"}}}]}`,
		`{"rules": [{"name": "a", "abort": {"percent": 1e-7}}]}`, `{"rules": [{"name": "a", "abort": {"percent": 1e999}}]}`,
		`{"rules": [{"name": "a", "abort": {"percent": -0}}]}`, `{"rules": [{"name": "a", "abort": {"percent": 12.5}, "abort": {"percent": 1}}]}`,
		`{"rules": [{"name": "d", "delay": {"percent": 100, "fixed": "1h", "jitter": "1h", "phase": "response"}}]}`,
		`{"rules": [{"name": "d", "delay": {"percent": 100, "fixed": "1ms", "jitter": "1ms"}, "reset": {"percent": 50}}]}`,
		`{"rules": [{"name": "c", "corrupt": {"percent": 100, "request": [{"op": "set", "name": ":path", "value": "/x"}, {"op": "garble", "name": "x"},
			{"op": "truncate", "name": "x", "length": 0}], "response": [{"op": "status", "value": "200"}, {"op": "empty", "name": "y"}]}}]}`,
		`{"rules": [{"name": "c", "corrupt": {"percent": 100, "request": [{"op": "status", "value": 500}]}}]}`,
		`{"rules": [{"name": "m", "match": {"route_name": "r", "virtual_host": "v", "cluster": "c", "path": "/p", "prefix": "/", "regex": "^/(a|b)+$",
			"methods": ["GET"], "authority": "h", "headers": [{"name": "x", "exact": ""}, {"name": ":path", "regex": ".*", "invert": true}]}, "reset": {"percent": 1}}]}`,
		`{"rules": [{"name": "m", "match": {"regex": "(((((a*)*)*)*)*)"}, "reset": {"percent": 1}}]}`,
		`{"rules": [{"name": "u", "sample_by": {"cookie": "s"}, "duplicate": {"percent": 100, "copies": 10, "after": "0s", "timeout": "1ms", "cluster": "x", "max_bytes": 0}}]}`,
		`{"rules": [{"name": "m", "match": {"regex": "\\p{Greek}"}, "reset": {"percent": 1}}]}`,
		"{\"rules\": [{\"name\": \"\xff\xfe\", \"reset\": {\"percent\": 1}}]}",
		`{"` + strings.Repeat("k", 300) + `": 1}`,
		strings.Repeat(`[`, 2000) + strings.Repeat(`]`, 2000),
		strings.Repeat(`{"a":`, 500) + `1` + strings.Repeat(`}`, 500),
		`{"rules": [` + strings.Repeat(`{"name": "x", "reset": {"percent": 1}},`, 70) + `{"name": "y"}]}`,
		"p||body|v|5ms|new", "(|\x00|\u00e9|\r\n|1h|", "[a-z]+|exact|" + strings.Repeat("b", 70000) + "|h|0s|v",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	// Compiled before fuzzing starts: the fuzzing engine stops a worker
	// whose input runs for more than 10s, and compiling the module in a
	// coverage-instrumented binary on a busy machine can take about that.
	h := fuzzHost(f, "config", "")
	f.Fuzz(func(t *testing.T, raw string) {
		// The fuzzer cannot see coverage inside the guest, so random bytes
		// rarely make a valid config. Each input is also pushed as the
		// values of a valid rule's fields, which reach the request path.
		checkConfigPush(t, h, raw)
		checkConfigPush(t, h, templated(raw))
	})
}

// templated puts the '|'-separated parts of raw into the string fields of
// a rule that is otherwise valid.
func templated(raw string) string {
	parts := strings.SplitN(raw, "|", 6)
	for len(parts) < 6 {
		parts = append(parts, "")
	}
	q := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	return `{"seed": 1, "tick": "1ms", "rules": [{"name": "f", "match": {"regex": ` + q("^/"+parts[0]) +
		`, "headers": [{"name": "x", "exact": ` + q(parts[1]) + `}]},
		"abort": {"percent": 50, "body": ` + q(parts[2]) + `, "headers": {"x-h": ` + q(parts[3]) + `}},
		"delay": {"percent": 50, "fixed": ` + q(parts[4]) + `},
		"corrupt": {"percent": 100, "request": [{"op": "set", "name": "y", "value": ` + q(parts[5]) + `}, {"op": "garble", "name": "x"}],
			"response": [{"op": "append", "name": "z", "value": ` + q(parts[5]) + `}]}}]}`
}

// checkConfigPush pushes cfg and checks the outcome: no trap; a refusal
// names a JSON path; an accepted config serves a request to its end.
func checkConfigPush(t *testing.T, h *hosttest.Host, cfg string) {
	t.Helper()
	err := h.Reconfigure([]byte(cfg))
	if traps := h.Trapped(); len(traps) > 0 {
		t.Fatalf("config %q trapped the guest: %v", cfg, traps[0])
	}
	if err != nil {
		var pe *hosttest.PushError
		if !errors.As(err, &pe) {
			t.Fatalf("config %q: refused with %T %v, want a *PushError", cfg, err, err)
		}
		if pe.Trap != nil {
			t.Fatalf("config %q trapped: %v", cfg, pe.Trap)
		}
		named := false
		for _, l := range logsAt(pe.Logs, hosttest.LogLevelError) {
			named = named || namesPath(l)
		}
		if !named {
			t.Fatalf("config %q refused without an error line naming a JSON path: %q", cfg, logsAt(pe.Logs, hosttest.LogLevelError))
		}
		return
	}
	req := get("POST", "/p", "content-type", "application/grpc", "x", "", "y", "1")
	req.Properties = map[string]string{"xds.route_name": "r", "xds.virtual_host_name": "v", "xds.cluster_name": "c"}
	s := h.Start(req)
	if !s.Done() {
		// Delays of up to two hours with a 1ms tick would cost millions
		// of ticks: give the stream 100ms, then the client gives up, as a
		// real client's timeout would. Either way it must end cleanly.
		h.Advance(100 * time.Millisecond)
		s.Reset()
	}
	if !s.Done() {
		t.Fatalf("config %q: stream still open after a client reset", cfg)
	}
	if r := s.Result(); r.Trap != nil {
		t.Fatalf("config %q: request trapped: %v", cfg, r.Trap)
	}
	gaugeTick(h)
	if h.PausedStreams() != 0 || h.ActiveStreams() != 0 || h.Metric("nedry.active_faults") != 0 {
		t.Fatalf("config %q: %d paused, %d active streams left, gauge %d", cfg, h.PausedStreams(), h.ActiveStreams(), h.Metric("nedry.active_faults"))
	}
}

// fuzzHeadersConfig reads, matches, controls and corrupts the headers the
// fuzzer sends.
const fuzzHeadersConfig = `{"seed": 3, "tick": "1ms", "header_control": {"enabled": true, "max_delay": "20ms"}, "rules": [
	{"name": "h", "match": {"headers": [{"name": "x-a", "regex": "^[a-f]+$"}]}, "abort": {"percent": 50, "grpc_status": 3}, "delay": {"percent": 50, "fixed": "2ms"}},
	{"name": "c", "match": {"headers": [{"name": "x-b", "present": true}]}, "corrupt": {"percent": 100,
		"request": [{"op": "garble", "name": "x-b"}, {"op": "truncate", "name": "x-a", "length": 3}, {"op": "append", "name": "x-b", "value": "z"}],
		"response": [{"op": "garble", "name": "content-type"}]}},
	{"name": "all", "corrupt": {"percent": 100, "request": [{"op": "garble", "name": "x-a"}, {"op": "remove", "name": "x-c"}, {"op": "empty", "name": "x-b"}]},
		"reset": {"percent": 5}}
]}`

// fuzzHeaders turns raw fuzz input into request headers Envoy could hand a
// filter: lines of "name:value"; names lowercased and reduced to token
// characters, values without NUL, CR or LF (Envoy rejects those).
func fuzzHeaders(raw []byte, repeat uint8, huge uint16) [][2]string {
	const tchars = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
	var out [][2]string
	for _, line := range strings.Split(string(raw), "\n") {
		name, value, _ := strings.Cut(line, ":")
		var nb strings.Builder
		for i := 0; i < len(name); i++ {
			c := name[i]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if strings.IndexByte(tchars, c) < 0 {
				c = tchars[int(c)%len(tchars)]
			}
			nb.WriteByte(c)
		}
		if nb.Len() == 0 {
			nb.WriteString("x-empty-name")
		}
		value = strings.Map(func(r rune) rune {
			if r == 0 || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, value)
		out = append(out, [2]string{nb.String(), value})
	}
	if len(out) > 0 {
		for i := 0; i < int(repeat); i++ {
			out = append(out, out[i%len(out)])
		}
	}
	if huge > 0 {
		// Envoy's default header list limit is 60 KiB.
		out = append(out, [2]string{"x-huge", strings.Repeat("h", int(huge)%(56<<10))})
	}
	return out
}

// FuzzRequestHeaders sends random request headers (huge, empty, repeated,
// odd bytes, x-nedry-* controls) through a filter that reads, matches and
// corrupts them: the guest never traps, no stream stays open or paused, and
// no x-nedry-* header reaches the upstream.
func FuzzRequestHeaders(f *testing.F) {
	f.Add([]byte("x-a:abc\nx-b:1\nx-c:2"), "/", uint8(0), uint16(0))
	f.Add([]byte("x-a:\nx-b:\nx-a:"), "/", uint8(100), uint16(0))
	f.Add([]byte(""), "/", uint8(0), uint16(60000))
	f.Add([]byte(":\n:\n::::"), "/", uint8(3), uint16(1))
	f.Add([]byte("x-nedry-abort:503\nx-nedry-delay-ms:99999\nx-nedry-abort-grpc:14\ncontent-type:application/grpc"), "/", uint8(0), uint16(0))
	f.Add([]byte("x-nedry-delay-ms: 5 \nx-nedry-abort:abc\nx-nedry-panic:nope\nx-nedry-secret:"), "/?q=1", uint8(2), uint16(0))
	f.Add([]byte("X-A:\x01\x7f\xff\xfe\tvalue \nX-B:\u00e9\u4e16"), "/%00", uint8(0), uint16(0))
	f.Add([]byte("authorization:Bearer x\ncookie:a=b\nx-b:"+strings.Repeat("v", 5000)), "/api", uint8(50), uint16(8000))
	h := fuzzHost(f, "headers", fuzzHeadersConfig) // before fuzzing, as in FuzzConfig
	f.Fuzz(func(t *testing.T, raw []byte, path string, repeat uint8, huge uint16) {
		p := strings.Map(func(r rune) rune {
			if r < 0x21 || r > 0x7e {
				return -1
			}
			return r
		}, path)
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		req := hosttest.Request{Headers: append([][2]string{{":method", "GET"}, {":path", p}}, fuzzHeaders(raw, repeat, huge)...)}
		s := h.Start(req)
		if !s.Done() {
			h.Advance(time.Second) // longest delay: max_delay 20ms
		}
		if !s.Done() {
			t.Fatal("stream still open after 1s of virtual time")
		}
		r := s.Result()
		if r.Trap != nil {
			t.Fatalf("trap: %v", r.Trap)
		}
		if r.Upstream != nil {
			for _, kv := range r.Upstream.Headers {
				if strings.HasPrefix(kv[0], "x-nedry-") {
					t.Fatalf("upstream saw %q", kv)
				}
			}
		}
		gaugeTick(h)
		if h.PausedStreams() != 0 || h.ActiveStreams() != 0 || h.Metric("nedry.active_faults") != 0 {
			t.Fatalf("%d paused, %d active streams, gauge %d", h.PausedStreams(), h.ActiveStreams(), h.Metric("nedry.active_faults"))
		}
		if traps := h.Trapped(); len(traps) > 0 {
			t.Fatalf("trap: %v", traps[0])
		}
	})
}

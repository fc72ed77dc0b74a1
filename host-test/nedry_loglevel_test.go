package hosttest_test

import (
	"fmt"
	"testing"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// Fault log lines are debug lines: Nedry asks the host for its level, keeps
// the answer, and neither formats nor sends a line the host would drop. The
// cached level is asked again at every configuration and after at most 128
// streams, so a level changed through Envoy's admin endpoint shows soon.
func TestLogLevel_faultLines(t *testing.T) {
	const cfg = `{"seed": 7, "rules": [{"name": "a", "abort": {"percent": 100, "http_status": 503}}]}`
	abortCalls := func(h *hosttest.Host) (uint64, hosttest.Result, uint32) {
		c := h.HostCalls()
		r, id := run(h, get("GET", "/x"))
		if r.Response == nil || r.Response.Status != 503 {
			t.Fatalf("want the 503 abort, have %+v", r.Response)
		}
		return h.HostCalls() - c, r, id
	}

	t.Run("info drops the line without a call", func(t *testing.T) {
		debug := newNedry(t, cfg, hosttest.Options{LogLevel: hosttest.LogLevelDebug})
		info := newNedry(t, cfg, hosttest.Options{LogLevel: hosttest.LogLevelInfo})
		// The first fault after configure asks for the level; compare the
		// requests after it.
		abortCalls(debug)
		abortCalls(info)
		dc, dr, did := abortCalls(debug)
		ic, ir, _ := abortCalls(info)
		wantLogs(t, dr, hosttest.LogLevelDebug, fmt.Sprintf("nedry: rule a: abort (stream %d)", did))
		if got := logsAt(ir.Logs, hosttest.LogLevelTrace); len(got) != 0 {
			t.Fatalf("info level: want no log line, have %q", got)
		}
		if dc != ic+1 {
			t.Fatalf("host calls per abort: debug %d, info %d; want exactly one more (proxy_log) at debug", dc, ic)
		}
	})

	t.Run("a level raised at run time shows within 128 streams", func(t *testing.T) {
		h := newNedry(t, cfg, hosttest.Options{LogLevel: hosttest.LogLevelInfo})
		abortCalls(h)
		h.SetLogLevel(hosttest.LogLevelDebug)
		first := 0
		for i := 1; i <= 200 && first == 0; i++ {
			if _, r, id := abortCalls(h); hasLog(r.Logs, hosttest.LogLevelDebug, fmt.Sprintf("nedry: rule a: abort (stream %d)", id)) {
				first = i
			}
		}
		if first == 0 || first > 128 {
			t.Fatalf("debug fault line first seen at request %d after the change; want within 128", first)
		}
		if first == 1 {
			t.Fatal("the level was asked again on the very next fault: it should be cached")
		}
	})

	t.Run("a configuration push asks again", func(t *testing.T) {
		h := newNedry(t, cfg, hosttest.Options{LogLevel: hosttest.LogLevelInfo})
		abortCalls(h)
		h.SetLogLevel(hosttest.LogLevelDebug)
		if err := h.Reconfigure([]byte(cfg)); err != nil {
			t.Fatal(err)
		}
		_, r, id := abortCalls(h)
		wantLogs(t, r, hosttest.LogLevelDebug, fmt.Sprintf("nedry: rule a: abort (stream %d)", id))
	})
}

package hosttest

import (
	"strings"
	"testing"
	"time"
)

// TestCallObserver checks that Options.CallObserver sees each guest export
// call the host makes, once and in order, and never an allocation nested in
// a hostcall. It asserts names only: durations are wall time.
func TestCallObserver(t *testing.T) {
	tests := []struct {
		name  string
		guest string
		// run drives one request and returns its result; the observer's
		// record starts after New.
		run  func(h *Host) Result
		want []string
		// wantHeld proves the guest read its header value, which the host
		// hands over through a nested proxy_on_memory_allocate.
		wantHeld time.Duration
	}{
		{
			// proxy_on_request_headers reads x-delay-ms and
			// proxy_on_response_headers reads :status through
			// proxy_get_header_map_value, whose value the host writes into
			// memory from proxy_on_memory_allocate: both callbacks hold a
			// nested export call that must not be reported.
			name:  "paused by the guest, resumed by a tick",
			guest: "stream",
			run: func(h *Host) Result {
				s := h.Start(req("x-delay-ms", "25"))
				h.Advance(30 * time.Millisecond)
				return s.Result()
			},
			want: []string{"proxy_on_context_create", "proxy_on_request_headers",
				"proxy_on_tick", "proxy_on_tick", "proxy_on_tick",
				"proxy_on_response_headers", "proxy_on_done", "proxy_on_delete"},
			wantHeld: 30 * time.Millisecond,
		},
		{
			name:  "every stream callback",
			guest: "noop",
			run: func(h *Host) Result {
				return h.Do(Request{Body: []byte("x"), Trailers: [][2]string{{"t", "1"}},
					Response: &Response{Status: 200, Body: []byte("y"), Trailers: [][2]string{{"u", "2"}}}})
			},
			want: []string{"proxy_on_context_create", "proxy_on_request_headers", "proxy_on_request_body",
				"proxy_on_request_trailers", "proxy_on_response_headers", "proxy_on_response_body",
				"proxy_on_response_trailers", "proxy_on_log", "proxy_on_done", "proxy_on_delete"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var seen []string
			h := newHost(t, tc.guest, Options{CallObserver: func(export string, d time.Duration) {
				seen = append(seen, export)
			}})
			seen = nil
			r := tc.run(h)
			mustNoTrap(t, r)
			if r.Held != tc.wantHeld {
				t.Fatalf("held %v, want %v", r.Held, tc.wantHeld)
			}
			if have, want := strings.Join(seen, " "), strings.Join(tc.want, " "); have != want {
				t.Fatalf("observed calls:\nhave %s\nwant %s", have, want)
			}
		})
	}
}

// TestCallObserver_startUp checks what New reports: _initialize and the root
// context's start in the throw-away VM that validates the configuration,
// then the same in the worker's VM.
func TestCallObserver_startUp(t *testing.T) {
	var seen []string
	newHost(t, "stream", Options{CallObserver: func(export string, d time.Duration) { seen = append(seen, export) }})
	start := []string{"_initialize", "proxy_on_context_create", "proxy_on_configure"}
	want := strings.Join(append(start, start...), " ")
	if have := strings.Join(seen, " "); have != want {
		t.Fatalf("observed calls:\nhave %s\nwant %s", have, want)
	}
}

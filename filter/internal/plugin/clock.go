package plugin

import "time"

// now returns a monotonic time in nanoseconds for the delay queue.
//
// It reads WASI clock_time_get (MONOTONIC) through the Go runtime rather
// than proxy_get_current_time_nanoseconds: the monotonic clock never jumps
// back when the wall clock is adjusted, Envoy provides it, and hosts that
// lack the proxy_* clock (the proxy-wasm-go-sdk emulator used as a second
// opinion in host-test) can still load the module.
func now() int64 {
	if clockBase.IsZero() {
		clockBase = time.Now()
	}
	return int64(time.Since(clockBase))
}

// clockBase is set on first use, from a callback, not during _initialize.
var clockBase time.Time

package plugin

import (
	"time"

	"github.com/nedry-chaos/nedry/filter/internal/abi"
)

// now returns a monotonic time in nanoseconds for the delay queue, the
// schedule and the guardrails' slowness.
//
// It reads WASI clock_time_get (MONOTONIC) rather than
// proxy_get_current_time_nanoseconds: the monotonic clock never jumps back
// when the wall clock is adjusted, Envoy provides it, and hosts that lack
// the proxy_* clock (the proxy-wasm-go-sdk emulator used as a second
// opinion in host-test) can still load the module. It reads it directly
// (abi.Monotonic) rather than through time.Since, which wraps the host call
// in four calls of Go's time and runtime packages: a control request of a
// guardrail on slowness reads the clock twice.
func now() int64 {
	if t, ok := abi.Monotonic(); ok {
		return t
	}
	if clockBase.IsZero() {
		clockBase = time.Now()
	}
	return int64(time.Since(clockBase))
}

// clockBase is the origin of the fallback clock, set on first use.
var clockBase time.Time

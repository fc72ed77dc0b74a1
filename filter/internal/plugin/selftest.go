package plugin

import (
	"github.com/nedry-chaos/nedry/filter/internal/config"
	"github.com/nedry-chaos/nedry/filter/internal/fault"
)

// headerPanic asks Nedry to panic on purpose, so the recovery path (log at
// error level, nedry.errors, fail open) can be exercised through the real
// module, in tests and against a live Envoy. Like the other x-nedry-*
// request headers it is honoured only with header_control enabled and the
// secret, if any, matching, and it is always removed before the request
// goes upstream. Values: "request", "response" or "tick" (the panic happens
// when a delayed stream is resumed; combine with x-nedry-delay-ms).
const headerPanic = "x-nedry-panic"

// Where a requested panic happens.
const (
	panicNone uint8 = iota
	panicRequest
	panicResponse
	panicTick
)

// selfTestPanic is the value of requested panics, so the log says what it was.
type selfTestPanic struct{}

func (selfTestPanic) Error() string { return "panic requested by " + headerPanic }

// requestedPanic returns where the request asked to panic, after checking
// that header control allows it. Untrusted input: unknown values are
// ignored.
func (s *stream) requestedPanic(hc config.HeaderControl) uint8 {
	v, ok := s.headers.Get(headerPanic)
	if !ok || !hc.Enabled {
		return panicNone
	}
	if hc.Secret != "" {
		got, _ := s.headers.Get(fault.HeaderSecret)
		if !fault.EqualSecret(got, hc.Secret) {
			return panicNone
		}
	}
	switch v {
	case "request":
		return panicRequest
	case "response":
		return panicResponse
	case "tick":
		return panicTick
	}
	return panicNone
}

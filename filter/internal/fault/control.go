package fault

import (
	"crypto/subtle"
	"time"

	"github.com/nedry-chaos/nedry/filter/internal/config"
)

// Control is what request-control headers asked for.
type Control struct {
	// AbortStatus is the requested HTTP status; 0 means none.
	AbortStatus uint32
	// GRPCStatus is the requested gRPC status; -1 means none.
	GRPCStatus int32
	// Delay is the requested delay, already capped at MaxDelay; 0 means none.
	Delay time.Duration
	// Any reports whether any fault was requested.
	Any bool
}

// ParseControl reads the x-nedry-* request-control headers through get.
// Clients are untrusted: it returns nothing unless header control is enabled
// and, when a secret is set, x-nedry-secret equals it (compared in constant
// time). Invalid values are ignored, never errors, and the delay is clamped
// to hc.MaxDelay. It does not allocate.
func ParseControl(hc config.HeaderControl, get func(name string) (string, bool)) Control {
	c := Control{GRPCStatus: -1}
	if !hc.Enabled {
		return c
	}
	if hc.Secret != "" {
		s, ok := get(HeaderSecret)
		if !ok || !EqualSecret(s, hc.Secret) {
			return c
		}
	}
	if v, ok := get(HeaderAbort); ok {
		if n, ok := parseUint(v); ok && n >= 200 && n <= 599 {
			c.AbortStatus = uint32(n)
		}
	}
	if v, ok := get(HeaderAbortGRPC); ok {
		if n, ok := parseUint(v); ok && n <= 16 {
			c.GRPCStatus = int32(n)
		}
	}
	if v, ok := get(HeaderDelayMS); ok {
		// Any valid number is accepted and clamped: a client asking for
		// too much gets the maximum, not an error.
		if n, ok := parseUint(v); ok && n > 0 {
			if n > uint64(hc.MaxDelay/time.Millisecond) {
				c.Delay = hc.MaxDelay
			} else {
				c.Delay = time.Duration(n) * time.Millisecond
			}
		}
	}
	c.Any = c.AbortStatus != 0 || c.GRPCStatus >= 0 || c.Delay > 0
	return c
}

// parseUint parses a decimal number of 1 to 19 digits (which cannot
// overflow), surrounding spaces and tabs allowed. Unlike strconv it does not
// allocate an error for bad input.
func parseUint(s string) (uint64, bool) {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	if s == "" || len(s) > 19 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// EqualSecret compares in time that depends only on the lengths, so a
// client cannot find the secret byte by byte. It does not allocate.
func EqualSecret(got, want string) bool {
	if len(got) != len(want) {
		return false
	}
	var diff byte
	for i := 0; i < len(got); i++ {
		diff |= got[i] ^ want[i]
	}
	return subtle.ConstantTimeByteEq(diff, 0) == 1
}

package config

import (
	"time"

	"github.com/tidwall/gjson"
)

// Halt is a rule's guardrail: when, over Window, at least MinRequests
// control requests (matched, nothing injected) were seen and the share of
// them that failed (or were slow) exceeds its maximum, the rule injects
// nothing for Cooldown.
type Halt struct {
	// MaxErrorPPM and MaxSlowPPM are the maximum shares in parts per
	// million; HasError and HasSlow say which are set.
	MaxErrorPPM, MaxSlowPPM uint32
	HasError, HasSlow       bool
	// Slow is the request-to-response-headers time above which a control
	// request counts as slow.
	Slow        time.Duration
	Window      time.Duration
	MinRequests int
	Cooldown    time.Duration
}

// Guardrail defaults.
const (
	DefaultHaltWindow      = 30 * time.Second
	DefaultHaltMinRequests = 50
	DefaultHaltCooldown    = 5 * time.Minute
	maxHaltRequests        = 1000000
)

func (p *parser) halt(path string, v gjson.Result) *Halt {
	h := &Halt{Window: DefaultHaltWindow, MinRequests: DefaultHaltMinRequests, Cooldown: DefaultHaltCooldown}
	hasSlowKey := false
	ok := p.object(path, v, func(key, kp string, v gjson.Result) bool {
		switch key {
		case "max_error_percent":
			h.MaxErrorPPM, h.HasError = p.percent(kp, v)
		case "max_slow_percent":
			h.MaxSlowPPM, h.HasSlow = p.percent(kp, v)
		case "slow":
			hasSlowKey = true
			h.Slow, _ = p.duration(kp, v, minDuration, maxDuration, "[1ms, 1h]")
		case "window":
			h.Window, _ = p.duration(kp, v, time.Second, maxDuration, "[1s, 1h]")
		case "min_requests":
			if n, ok := p.integer(kp, v, 1, maxHaltRequests); ok {
				h.MinRequests = int(n)
			}
		case "cooldown":
			h.Cooldown, _ = p.duration(kp, v, time.Second, 24*time.Hour, "[1s, 24h]")
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	if !v.Get("max_error_percent").Exists() && !v.Get("max_slow_percent").Exists() {
		p.failText(path, "must set max_error_percent or max_slow_percent (or both)")
	}
	if v.Get("max_slow_percent").Exists() && !hasSlowKey {
		p.failText(join(path, "slow"), "required with max_slow_percent")
	}
	if hasSlowKey && !v.Get("max_slow_percent").Exists() {
		p.failText(join(path, "slow"), "only with max_slow_percent")
	}
	return h
}

package config

import (
	"strconv"

	"github.com/tidwall/gjson"
)

func (p *parser) headerControl(path string, v gjson.Result, hc *HeaderControl) {
	p.object(path, v, func(key, path string, v gjson.Result) bool {
		switch key {
		case "enabled":
			hc.Enabled, _ = p.boolean(path, v)
		case "secret":
			hc.Secret, _ = p.secret(path, v)
		case "max_delay":
			if d, ok := p.duration(path, v, minDuration, maxDuration, "[1ms, 1h]"); ok {
				hc.MaxDelay = d
			}
		default:
			return false
		}
		return true
	})
}

// secret validates header_control.secret. Its problems never show the
// value, valid or not: the log line of a refused config must not leak the
// secret, nor a near-miss of it.
func (p *parser) secret(path string, v gjson.Result) (string, bool) {
	if v.Type != gjson.String {
		p.failText(path, "must be a string (value not shown)")
		return "", false
	}
	s := v.Str
	if len(s) > MaxSecretBytes {
		p.failText(path, "must be at most "+strconv.Itoa(MaxSecretBytes)+" bytes, got "+strconv.Itoa(len(s))+" bytes (value not shown)")
		return "", false
	}
	// Envoy trims header values, so a secret with spaces could never
	// match; only visible ASCII is allowed.
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			p.failText(path, "must be visible ASCII characters only, byte "+strconv.Itoa(i)+" is not (value not shown)")
			return "", false
		}
	}
	return s, true
}

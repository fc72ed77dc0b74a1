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
			s, ok := p.str(path, v)
			if !ok {
				break
			}
			if len(s) > MaxSecretBytes {
				p.fail(path, "must be at most "+strconv.Itoa(MaxSecretBytes)+" bytes", v)
				break
			}
			// Envoy trims header values, so a secret with spaces could
			// never match; only visible ASCII is allowed.
			for i := 0; i < len(s); i++ {
				if s[i] < 0x21 || s[i] > 0x7e {
					p.fail(path, "must be visible ASCII characters only", v)
					return true
				}
			}
			hc.Secret = s
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

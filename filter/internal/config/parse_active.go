package config

import (
	"time"

	"github.com/tidwall/gjson"
)

// Bounds of the time keys.
const (
	maxOffset = 14 * 60 * 60 // utc_offset in seconds, either side
	maxOver   = 7 * 24 * time.Hour
	maxSteps  = 1000
)

// instant accepts an RFC 3339 time such as "2026-12-24T18:00:00Z" and
// returns it in Unix nanoseconds.
func (p *parser) instant(path string, v gjson.Result) (int64, bool) {
	if v.Type == gjson.String {
		if t, ok := parseRFC3339(v.Str); ok {
			return t, true
		}
	}
	p.fail(path, `must be an RFC 3339 time like "2026-12-24T18:00:00Z" (years 1970 to 2261)`, v)
	return 0, false
}

var dayNames = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func (p *parser) active(path string, v gjson.Result) *Active {
	a := &Active{}
	any := false
	ok := p.object(path, v, func(key, kp string, v gjson.Result) bool {
		switch key {
		case "after":
			any = true
			a.After, _ = p.instant(kp, v)
		case "before":
			any = true
			a.Before, _ = p.instant(kp, v)
		case "days":
			any = true
			a.Days = p.days(kp, v)
		case "hours":
			any = true
			a.From, a.To, a.Hours = p.hours(kp, v)
		case "utc_offset":
			a.Offset, _ = p.offset(kp, v)
		default:
			return false
		}
		return true
	})
	if !ok {
		return a
	}
	if !any {
		p.failText(path, "must set at least one of after, before, days or hours")
	}
	if a.After != 0 && a.Before != 0 && a.After >= a.Before {
		p.fail(join(path, "before"), "must be later than after ("+v.Get("after").Str+")", v.Get("before"))
	}
	return a
}

func (p *parser) days(path string, v gjson.Result) uint8 {
	if !v.IsArray() || len(v.Array()) == 0 {
		p.fail(path, `must be a non-empty array of day names ("mon" ... "sun")`, v)
		return 0
	}
	var set uint8
	for i, d := range v.Array() {
		ip := index(path, i)
		bit := -1
		if d.Type == gjson.String {
			for n, name := range dayNames {
				if d.Str == name {
					bit = n
				}
			}
		}
		if bit < 0 {
			p.fail(ip, `must be one of "mon", "tue", "wed", "thu", "fri", "sat", "sun"`, d)
			continue
		}
		if set&(1<<bit) != 0 {
			p.fail(ip, "duplicate day", d)
			continue
		}
		set |= 1 << bit
	}
	return set
}

// clockMinutes reads "HH:MM" with HH in 00..24 and MM in 00..59 ("24:00"
// only when allow24), returning minutes since midnight.
func clockMinutes(s string, allow24 bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range [...]int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || h == 24 && (m != 0 || !allow24) {
		return 0, false
	}
	return h*60 + m, true
}

func (p *parser) hours(path string, v gjson.Result) (from, to int, ok bool) {
	const why = `must be "HH:MM-HH:MM" (00:00 to 24:00, start and end differ; "22:00-02:00" wraps midnight)`
	if v.Type != gjson.String || len(v.Str) != 11 || v.Str[5] != '-' {
		p.fail(path, why, v)
		return 0, 0, false
	}
	from, okFrom := clockMinutes(v.Str[:5], false)
	to, okTo := clockMinutes(v.Str[6:], true)
	if to == 24*60 {
		to = 0 // end of day: the next midnight, as a wrap to 00:00
	}
	if !okFrom || !okTo || from == to {
		p.fail(path, why, v)
		return 0, 0, false
	}
	return from, to, true
}

func (p *parser) offset(path string, v gjson.Result) (int, bool) {
	if v.Type == gjson.String && len(v.Str) == 6 && (v.Str[0] == '+' || v.Str[0] == '-') {
		if m, ok := clockMinutes(v.Str[1:], false); ok && m*60 <= maxOffset {
			if v.Str[0] == '-' {
				m = -m
			}
			return m * 60, true
		}
	}
	p.fail(path, `must be "+HH:MM" or "-HH:MM" in [-14:00, +14:00]`, v)
	return 0, false
}

// ramp reads a fault's ramp; from is the fault's own percent, in ppm.
func (p *parser) ramp(path string, v gjson.Result) *Ramp {
	r := &Ramp{}
	hasTo, hasOver, hasSteps := false, false, false
	ok := p.object(path, v, func(key, kp string, v gjson.Result) bool {
		switch key {
		case "to":
			hasTo = true
			r.ToPPM, _ = p.percent(kp, v)
		case "over":
			hasOver = true
			r.Over, _ = p.duration(kp, v, time.Second, maxOver, "[1s, 168h]")
		case "steps":
			hasSteps = true
			if n, ok := p.integer(kp, v, 1, maxSteps); ok {
				r.Steps = int(n)
			}
		case "start":
			r.Start, _ = p.instant(kp, v)
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	if !hasTo {
		p.failText(join(path, "to"), "required")
	}
	if !hasOver {
		p.failText(join(path, "over"), "required")
	}
	if !hasSteps {
		p.failText(join(path, "steps"), "required")
	}
	return r
}

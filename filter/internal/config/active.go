package config

import "time"

// Active is a rule's time window: every condition given must hold for the
// rule to inject. A rule outside its window still matches (and so shadows
// the rules after it) but injects nothing. Times are Unix nanoseconds.
type Active struct {
	// After and Before bound the window [After, Before); 0 means unbounded.
	After, Before int64
	// Days is a bit set of weekdays (1<<time.Sunday ...); 0 means every day.
	Days uint8
	// From and To are minutes since local midnight, the window being
	// [From, To); To < From wraps midnight. Hours is false when no hours
	// are given.
	Hours    bool
	From, To int
	// Offset is the local clock's offset east of UTC, in seconds; days and
	// hours are read on that clock.
	Offset int
}

// local splits t into the local day number (days since 1970-01-01 on the
// offset clock) and the minute of that day.
func (a *Active) local(t int64) (day int64, minute int) {
	lt := t + int64(a.Offset)*nsPerSecond
	day = lt / nsPerDay
	if lt%nsPerDay < 0 {
		day--
	}
	return day, int((lt - day*nsPerDay) / nsPerMinute)
}

// weekday of a day number: 1970-01-01 was a Thursday.
func weekday(day int64) time.Weekday {
	return time.Weekday(((day+4)%7 + 7) % 7)
}

// At reports whether the window holds at t. A wrapping hours range belongs
// to the day it starts on: with "22:00-02:00" and days ["fri"], Saturday
// 01:00 is inside, Friday 01:00 is not.
func (a *Active) At(t int64) bool {
	if a.After != 0 && t < a.After {
		return false
	}
	if a.Before != 0 && t >= a.Before {
		return false
	}
	if !a.Hours && a.Days == 0 {
		return true
	}
	day, minute := a.local(t)
	if a.Hours {
		if a.From < a.To {
			if minute < a.From || minute >= a.To {
				return false
			}
		} else {
			switch {
			case minute >= a.From:
			case minute < a.To:
				day-- // the window began the day before
			default:
				return false
			}
		}
	}
	return a.Days == 0 || a.Days&(1<<weekday(day)) != 0
}

// Next returns the first instant after t at which At may change, or 0 when
// it never does again. It may return an instant where At does not change
// (a midnight inside an every-day window); callers only use it to know
// when to look again.
func (a *Active) Next(t int64) int64 {
	var next int64
	consider := func(c int64) {
		if c > t && (next == 0 || c < next) {
			next = c
		}
	}
	consider(a.After)
	consider(a.Before)
	if (a.Hours || a.Days != 0) && (a.Before == 0 || t < a.Before) {
		day, _ := a.local(t)
		off := int64(a.Offset) * nsPerSecond
		// Every boundary is a From, a To or a midnight of today or
		// tomorrow on the local clock.
		for d := day; d <= day+1; d++ {
			base := d*nsPerDay - off
			consider(base)
			if a.Hours {
				consider(base + int64(a.From)*nsPerMinute)
				consider(base + int64(a.To)*nsPerMinute)
			}
		}
	}
	return next
}

// Ramp raises a fault's rate in equal steps from its percent to To over
// Over. The rate at elapsed time e since the ramp's start is
// from + (to - from) * floor(e * steps / over) / steps, and To from Over on.
type Ramp struct {
	FromPPM, ToPPM uint32
	Over           time.Duration
	Steps          int
	// Start is the ramp's origin in Unix nanoseconds; 0 means the moment
	// the configuration was accepted (per VM).
	Start int64
}

// At returns the rate in parts per million after elapsed since the start,
// and the elapsed time at which it next changes (-1: never).
func (r *Ramp) At(elapsed time.Duration) (ppm uint32, next time.Duration) {
	if elapsed < 0 {
		return r.FromPPM, 0
	}
	if elapsed >= r.Over {
		return r.ToPPM, -1
	}
	step := int64(elapsed) * int64(r.Steps) / int64(r.Over)
	// The next step starts at the first elapsed time whose step is larger:
	// ceil((step+1) * over / steps).
	n := ((step+1)*int64(r.Over) + int64(r.Steps) - 1) / int64(r.Steps)
	diff := int64(r.ToPPM) - int64(r.FromPPM)
	return uint32(int64(r.FromPPM) + diff*step/int64(r.Steps)), time.Duration(n)
}

// startRamps sets each ramp's starting rate to its fault's percent.
func (r *Rule) startRamps() {
	for k, rp := range r.Ramps() {
		if rp != nil {
			rp.FromPPM = r.rate(k)
		}
	}
}

// rate returns the configured rate of fault k in draw order.
func (r *Rule) rate(k int) uint32 {
	switch {
	case k == 0 && r.Delay != nil:
		return r.Delay.PPM
	case k == 1 && r.Abort != nil:
		return r.Abort.PPM
	case k == 2 && r.Corrupt != nil:
		return r.Corrupt.PPM
	case k == 3 && r.Reset != nil:
		return r.Reset.PPM
	}
	return 0
}

// Rates returns the configured rates of the rule's faults in draw order
// (delay, abort, corrupt, reset), 0 where a fault is not configured.
func (r *Rule) Rates() [4]uint32 {
	return [4]uint32{r.rate(0), r.rate(1), r.rate(2), r.rate(3)}
}

// Ramps returns the ramp of each fault in draw order (delay, abort,
// corrupt, reset), nil where the fault has none or is not configured.
func (r *Rule) Ramps() (ramps [4]*Ramp) {
	if r.Delay != nil {
		ramps[0] = r.Delay.Ramp
	}
	if r.Abort != nil {
		ramps[1] = r.Abort.Ramp
	}
	if r.Corrupt != nil {
		ramps[2] = r.Corrupt.Ramp
	}
	if r.Reset != nil {
		ramps[3] = r.Reset.Ramp
	}
	return ramps
}

// Timed reports whether the rule's behaviour depends on the wall clock.
func (r *Rule) Timed() bool {
	return r.Active != nil || r.Ramps() != [4]*Ramp{}
}

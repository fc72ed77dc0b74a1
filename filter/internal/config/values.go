package config

import (
	"math"
	"strconv"
	"time"

	"github.com/tidwall/gjson"
)

func (p *parser) boolean(path string, v gjson.Result) (bool, bool) {
	if v.Type != gjson.True && v.Type != gjson.False {
		p.fail(path, "must be true or false", v)
		return false, false
	}
	return v.Type == gjson.True, true
}

func (p *parser) str(path string, v gjson.Result) (string, bool) {
	if v.Type != gjson.String {
		p.fail(path, "must be a string", v)
		return "", false
	}
	return v.Str, true
}

// integer accepts a JSON number with no fractional part in [lo, hi].
func (p *parser) integer(path string, v gjson.Result, lo, hi int64) (int64, bool) {
	if v.Type != gjson.Number {
		p.fail(path, "must be an integer", v)
		return 0, false
	}
	if n, err := strconv.ParseInt(v.Raw, 10, 64); err == nil {
		if n < lo || n > hi {
			p.fail(path, "must be in ["+strconv.FormatInt(lo, 10)+", "+strconv.FormatInt(hi, 10)+"]", v)
			return 0, false
		}
		return n, true
	}
	f := v.Num
	if f != math.Trunc(f) {
		p.fail(path, "must be an integer", v)
		return 0, false
	}
	if f < float64(lo) || f > float64(hi) {
		p.fail(path, "must be in ["+strconv.FormatInt(lo, 10)+", "+strconv.FormatInt(hi, 10)+"]", v)
		return 0, false
	}
	return int64(f), true
}

// percent converts a percentage in [0, 100] to parts per million, rejecting
// anything finer than one in a million rather than silently rounding it.
func (p *parser) percent(path string, v gjson.Result) (uint32, bool) {
	if v.Type != gjson.Number {
		p.fail(path, "must be a number", v)
		return 0, false
	}
	f := v.Num
	if !(f >= 0 && f <= 100) {
		p.fail(path, "must be in [0, 100]", v)
		return 0, false
	}
	scaled := f * 10000
	ppm := math.Round(scaled)
	// Percentages come in decimal and float64 cannot hold most of them
	// exactly; 1e-6 ppm is far below float noise and far above the finest
	// resolution users can write.
	if math.Abs(scaled-ppm) > 1e-6 {
		p.fail(path, "must be a multiple of 0.0001 (one in a million)", v)
		return 0, false
	}
	return uint32(ppm), true
}

// duration accepts a Go duration string in [lo, hi].
func (p *parser) duration(path string, v gjson.Result, lo, hi time.Duration, bounds string) (time.Duration, bool) {
	if v.Type != gjson.String {
		p.fail(path, `must be a duration string like "250ms"`, v)
		return 0, false
	}
	d, err := time.ParseDuration(v.Str)
	if err != nil {
		p.fail(path, `must be a duration string like "250ms"`, v)
		return 0, false
	}
	if d < lo || d > hi {
		p.fail(path, "must be in "+bounds, v)
		return 0, false
	}
	return d, true
}

func (p *parser) nonEmpty(path string, v gjson.Result) (string, bool) {
	s, ok := p.str(path, v)
	if !ok {
		return "", false
	}
	if s == "" {
		p.fail(path, "must not be empty", v)
		return "", false
	}
	if len(s) > MaxStringBytes {
		p.fail(path, "must be at most "+strconv.Itoa(MaxStringBytes)+" bytes", v)
		return "", false
	}
	if !printable(s) {
		p.fail(path, "must be printable ASCII (no control characters)", v)
		return "", false
	}
	return s, true
}

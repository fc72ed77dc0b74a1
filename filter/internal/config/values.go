package config

import (
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

// whyInteger is the problem of a number not written as a plain integer.
const whyInteger = "must be an integer written in plain digits (no fraction, exponent or -0)"

// plainInteger reports whether raw, the literal text of a JSON number, is
// written as an integer: digits with an optional minus sign, no fraction, no
// exponent and not -0. The rule applies to the text, not to the float64
// gjson reads, so 503.0, 5.03e2 and 503.00000000000001 are all refused
// rather than rounded to 503.
func plainInteger(raw string) bool {
	digits := raw
	if digits != "" && digits[0] == '-' {
		digits = digits[1:]
	}
	if digits == "" || raw == "-0" {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}

// integer accepts a JSON number written as a plain integer in [lo, hi].
func (p *parser) integer(path string, v gjson.Result, lo, hi int64) (int64, bool) {
	if v.Type != gjson.Number {
		p.fail(path, "must be an integer", v)
		return 0, false
	}
	if !plainInteger(v.Raw) {
		p.fail(path, whyInteger, v)
		return 0, false
	}
	// A literal too long for int64 is out of range either way.
	n, err := strconv.ParseInt(v.Raw, 10, 64)
	if err != nil || n < lo || n > hi {
		p.fail(path, "must be in ["+strconv.FormatInt(lo, 10)+", "+strconv.FormatInt(hi, 10)+"]", v)
		return 0, false
	}
	return n, true
}

// percent converts a percentage in [0, 100] to parts per million. It reads
// the literal text of the number, exactly, so a value finer than one in a
// million (33.3333000000001, 1e-400) is refused rather than rounded, however
// float64 would have read it. No percentage is written with a minus sign,
// -0 included.
func (p *parser) percent(path string, v gjson.Result) (uint32, bool) {
	if v.Type != gjson.Number {
		p.fail(path, "must be a number", v)
		return 0, false
	}
	ppm, fine, ok := decimalPPM(v.Raw)
	if !ok {
		p.fail(path, "must be in [0, 100]", v)
		return 0, false
	}
	if fine {
		p.fail(path, "must be a multiple of 0.0001 (one in a million)", v)
		return 0, false
	}
	return ppm, true
}

// decimalPPM reads raw, a valid JSON number, as an exact decimal times
// 10,000. ok is false when the value is negative (or written with a minus
// sign) or above 100; fine is true when it has a non-zero digit below
// 0.0001.
func decimalPPM(raw string) (ppm uint32, fine, ok bool) {
	if raw == "" || raw[0] == '-' {
		return 0, false, false
	}
	// Split into significant digits and a power of ten: value = m * 10^e.
	// Room on the stack for any percentage written sensibly: every abort,
	// delay, corrupt and reset has one, and a heap slice for each was one
	// allocation per fault (BenchmarkParse/rules_1000).
	var digits [24]byte
	m := digits[:0]
	e := 0
	i := 0
	for ; i < len(raw) && raw[i] >= '0' && raw[i] <= '9'; i++ {
		m = append(m, raw[i])
	}
	if i < len(raw) && raw[i] == '.' {
		for i++; i < len(raw) && raw[i] >= '0' && raw[i] <= '9'; i++ {
			m = append(m, raw[i])
			e--
		}
	}
	if i < len(raw) && (raw[i] == 'e' || raw[i] == 'E') {
		i++
		neg := false
		if i < len(raw) && (raw[i] == '+' || raw[i] == '-') {
			neg = raw[i] == '-'
			i++
		}
		// Exponents beyond a million only push the value out of range or
		// below the resolution; capping keeps the arithmetic small.
		x := 0
		for ; i < len(raw); i++ {
			if x < 1e6 {
				x = x*10 + int(raw[i]-'0')
			}
		}
		if neg {
			x = -x
		}
		e += x
	}
	for len(m) > 0 && m[0] == '0' {
		m = m[1:]
	}
	for len(m) > 0 && m[len(m)-1] == '0' {
		m = m[:len(m)-1]
		e++
	}
	if len(m) == 0 {
		return 0, false, true
	}
	// Scale to ppm: m * 10^(e+4). At most seven integer digits fit in
	// [0, 1000000].
	e += 4
	if len(m)+e > 7 {
		return 0, false, false
	}
	whole := m
	if e < 0 {
		if len(m)+e <= 0 {
			whole = nil
		} else {
			whole = m[:len(m)+e]
		}
		fine = true // trailing zeros are gone: what is cut is not zero
	}
	n := uint64(0)
	for _, d := range whole {
		n = n*10 + uint64(d-'0')
	}
	for k := 0; k < e; k++ {
		n *= 10
	}
	if n > 1000000 || (n == 1000000 && fine) {
		return 0, false, false
	}
	return uint32(n), fine, true
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

package config

// A small RFC 3339 reader and calendar arithmetic on Unix nanoseconds. The
// time package's Parse, Format and Date pull about 230 KB into the module
// (measured: 4,578,776 -> 4,810,966 bytes); the few operations the time
// keys need fit in this page.

const (
	nsPerSecond = int64(1e9)
	nsPerMinute = 60 * nsPerSecond
	nsPerDay    = 86400 * nsPerSecond
	// Unix nanoseconds fit an int64 from 1677 to April 2262.
	minYear, maxYear = 1970, 2261
)

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (the well-known era-based algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// digits reads n decimal digits of s at i.
func digits(s string, i, n int) (int64, bool) {
	if i+n > len(s) {
		return 0, false
	}
	var v int64
	for _, c := range []byte(s[i : i+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// parseRFC3339 reads "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)", with
// uppercase T and Z as Go's time.Parse wants them, and returns Unix
// nanoseconds. Years outside 1970..2261
// and leap seconds are refused.
func parseRFC3339(s string) (int64, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	y, ok1 := digits(s, 0, 4)
	mo, ok2 := digits(s, 5, 2)
	d, ok3 := digits(s, 8, 2)
	h, ok4 := digits(s, 11, 2)
	mi, ok5 := digits(s, 14, 2)
	se, ok6 := digits(s, 17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || y < minYear || y > maxYear || mo < 1 || mo > 12 ||
		d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || se > 59 {
		return 0, false
	}
	i := 19
	var frac int64
	if s[i] == '.' {
		i++
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if n < 9 {
				frac = frac*10 + int64(s[i]-'0')
			}
			n++
			i++
		}
		if n == 0 {
			return 0, false
		}
		for ; n < 9; n++ {
			frac *= 10
		}
	}
	var off int64
	switch {
	case i == len(s)-1 && s[i] == 'Z':
	case i == len(s)-6 && (s[i] == '+' || s[i] == '-') && s[i+3] == ':':
		oh, okh := digits(s, i+1, 2)
		om, okm := digits(s, i+4, 2)
		if !okh || !okm || oh > 23 || om > 59 {
			return 0, false
		}
		off = (oh*60 + om) * nsPerMinute
		if s[i] == '-' {
			off = -off
		}
	default:
		return 0, false
	}
	ns := daysFromCivil(y, mo, d)*nsPerDay + (h*3600+mi*60+se)*nsPerSecond + frac - off
	if ns < 0 {
		return 0, false
	}
	return ns, true
}

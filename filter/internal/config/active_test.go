package config

import (
	"strings"
	"testing"
	"time"
)

func TestParse_activeErrors(t *testing.T) {
	const abort = `"abort":{"percent":1}`
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"expires not a time", `{"expires":"tomorrow"}`, []string{
			`expires: must be an RFC 3339 time like "2026-12-24T18:00:00Z" (years 1970 to 2261), got "tomorrow"`}},
		{"expires number", `{"expires":1}`, []string{
			`expires: must be an RFC 3339 time like "2026-12-24T18:00:00Z" (years 1970 to 2261), got 1`}},
		{"active not object", rule(abort + `,"active":[]`), []string{
			`rules[0] (p).active: must be an object, got []`}},
		{"active empty", rule(abort + `,"active":{}`), []string{
			`rules[0] (p).active: must set at least one of after, before, days or hours`}},
		{"active offset only", rule(abort + `,"active":{"utc_offset":"+01:00"}`), []string{
			`rules[0] (p).active: must set at least one of after, before, days or hours`}},
		{"active unknown", rule(abort + `,"active":{"from":"x"}`), []string{
			`rules[0] (p).active.from: unknown field`,
			`rules[0] (p).active: must set at least one of after, before, days or hours`}},
		{"after bad", rule(abort + `,"active":{"after":"2026-13-01T00:00:00Z"}`), []string{
			`rules[0] (p).active.after: must be an RFC 3339 time like "2026-12-24T18:00:00Z" (years 1970 to 2261), got "2026-13-01T00:00:00Z"`}},
		{"before not after after", rule(abort + `,"active":{"after":"2026-06-01T10:00:00Z","before":"2026-06-01T10:00:00+00:00"}`), []string{
			`rules[0] (p).active.before: must be later than after (2026-06-01T10:00:00Z), got "2026-06-01T10:00:00+00:00"`}},
		{"days not array", rule(abort + `,"active":{"days":"mon"}`), []string{
			`rules[0] (p).active.days: must be a non-empty array of day names ("mon" ... "sun"), got "mon"`}},
		{"days empty", rule(abort + `,"active":{"days":[]}`), []string{
			`rules[0] (p).active.days: must be a non-empty array of day names ("mon" ... "sun"), got []`}},
		{"day unknown", rule(abort + `,"active":{"days":["mon","Tue","funday"]}`), []string{
			`rules[0] (p).active.days[1]: must be one of "mon", "tue", "wed", "thu", "fri", "sat", "sun", got "Tue"`,
			`rules[0] (p).active.days[2]: must be one of "mon", "tue", "wed", "thu", "fri", "sat", "sun", got "funday"`}},
		{"day twice", rule(abort + `,"active":{"days":["mon","mon"]}`), []string{
			`rules[0] (p).active.days[1]: duplicate day, got "mon"`}},
		{"hours syntax", rule(abort + `,"active":{"hours":"9-17"}`), []string{
			`rules[0] (p).active.hours: must be "HH:MM-HH:MM" (00:00 to 24:00, start and end differ; "22:00-02:00" wraps midnight), got "9-17"`}},
		{"hours minute", rule(abort + `,"active":{"hours":"09:60-17:00"}`), []string{
			`rules[0] (p).active.hours: must be "HH:MM-HH:MM" (00:00 to 24:00, start and end differ; "22:00-02:00" wraps midnight), got "09:60-17:00"`}},
		{"hours 25", rule(abort + `,"active":{"hours":"09:00-25:00"}`), []string{
			`rules[0] (p).active.hours: must be "HH:MM-HH:MM" (00:00 to 24:00, start and end differ; "22:00-02:00" wraps midnight), got "09:00-25:00"`}},
		{"hours start 24", rule(abort + `,"active":{"hours":"24:00-02:00"}`), []string{
			`rules[0] (p).active.hours: must be "HH:MM-HH:MM" (00:00 to 24:00, start and end differ; "22:00-02:00" wraps midnight), got "24:00-02:00"`}},
		{"hours empty range", rule(abort + `,"active":{"hours":"09:00-09:00"}`), []string{
			`rules[0] (p).active.hours: must be "HH:MM-HH:MM" (00:00 to 24:00, start and end differ; "22:00-02:00" wraps midnight), got "09:00-09:00"`}},
		{"hours whole day", rule(abort + `,"active":{"hours":"00:00-24:00"}`), []string{
			`rules[0] (p).active.hours: must be "HH:MM-HH:MM" (00:00 to 24:00, start and end differ; "22:00-02:00" wraps midnight), got "00:00-24:00"`}},
		{"offset too far", rule(abort + `,"active":{"hours":"09:00-17:00","utc_offset":"+14:30"}`), []string{
			`rules[0] (p).active.utc_offset: must be "+HH:MM" or "-HH:MM" in [-14:00, +14:00], got "+14:30"`}},
		{"offset syntax", rule(abort + `,"active":{"hours":"09:00-17:00","utc_offset":"1"}`), []string{
			`rules[0] (p).active.utc_offset: must be "+HH:MM" or "-HH:MM" in [-14:00, +14:00], got "1"`}},
		{"ramp missing keys", rule(`"abort":{"percent":1,"ramp":{}}`), []string{
			`rules[0] (p).abort.ramp.to: required`,
			`rules[0] (p).abort.ramp.over: required`,
			`rules[0] (p).abort.ramp.steps: required`}},
		{"ramp bad values", rule(`"delay":{"percent":1,"fixed":"1s","ramp":{"to":101,"over":"1ms","steps":0,"start":"now"}}`), []string{
			`rules[0] (p).delay.ramp.to: must be in [0, 100], got 101`,
			`rules[0] (p).delay.ramp.over: must be in [1s, 168h], got "1ms"`,
			`rules[0] (p).delay.ramp.steps: must be in [1, 1000], got 0`,
			`rules[0] (p).delay.ramp.start: must be an RFC 3339 time like "2026-12-24T18:00:00Z" (years 1970 to 2261), got "now"`}},
		{"ramp unknown", rule(`"reset":{"percent":1,"ramp":{"to":2,"over":"1m","steps":2,"every":"1s"}}`), []string{
			`rules[0] (p).reset.ramp.every: unknown field`}},
		{"ramp not object", rule(`"corrupt":{"percent":1,"request":[{"op":"remove","name":"a"}],"ramp":5}`), []string{
			`rules[0] (p).corrupt.ramp: must be an object, got 5`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			have := problems(t, tt.input)
			if len(have) != len(tt.want) {
				t.Fatalf("problems:\n%q\nwant:\n%q", have, tt.want)
			}
			for i := range have {
				if have[i] != tt.want[i] {
					t.Fatalf("problem %d:\n have %s\n want %s", i, have[i], tt.want[i])
				}
			}
		})
	}
}

func TestParse_activeAccepted(t *testing.T) {
	c, err := Parse([]byte(`{"expires":"2026-12-24T18:00:00+01:00","rules":[{"name":"p",
		"active":{"after":"2026-06-01T00:00:00Z","before":"2026-07-01T00:00:00Z","days":["mon","fri"],
		"hours":"22:00-24:00","utc_offset":"-05:30"},
		"abort":{"percent":10,"ramp":{"to":40,"over":"10m","steps":3,"start":"2026-06-01T00:00:00Z"}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 12, 24, 17, 0, 0, 0, time.UTC).UnixNano(); c.Expires != want {
		t.Fatalf("expires %v, want %v", c.Expires, want)
	}
	a := c.Rules[0].Active
	want := Active{After: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).UnixNano(), Before: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC).UnixNano(),
		Days: 1<<time.Monday | 1<<time.Friday, Hours: true, From: 22 * 60, To: 0, Offset: -(5*3600 + 30*60)}
	if *a != want {
		t.Fatalf("active %+v, want %+v", *a, want)
	}
	r := c.Rules[0].Abort.Ramp
	if r.FromPPM != 100000 || r.ToPPM != 400000 || r.Over != 10*time.Minute || r.Steps != 3 || r.Start != want.After {
		t.Fatalf("ramp %+v", *r)
	}
	if !c.Rules[0].Timed() {
		t.Fatal("Timed() false for a rule with a window")
	}
	if got := c.Summary(); got != "1 rule (p), enabled, random seed, tick 5ms, expires 2026-12-24T18:00:00+01:00" {
		t.Fatalf("summary %q", got)
	}
}

func TestActive_at(t *testing.T) {
	// 2026-06-05 is a Friday.
	at := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixNano()
	}
	business := &Active{Days: 1<<time.Monday | 1<<time.Tuesday | 1<<time.Wednesday | 1<<time.Thursday | 1<<time.Friday,
		Hours: true, From: 9 * 60, To: 17 * 60, Offset: 3600}
	night := &Active{Days: 1 << time.Friday, Hours: true, From: 22 * 60, To: 2 * 60}
	bounded := &Active{After: at("2026-06-05T10:00:00Z"), Before: at("2026-06-05T11:00:00Z")}
	tests := []struct {
		name string
		a    *Active
		t    string
		want bool
	}{
		{"business before start local", business, "2026-06-05T07:59:59Z", false},
		{"business start local", business, "2026-06-05T08:00:00Z", true},
		{"business last second", business, "2026-06-05T15:59:59Z", true},
		{"business end", business, "2026-06-05T16:00:00Z", false},
		{"business saturday", business, "2026-06-06T10:00:00Z", false},
		{"business monday via offset", business, "2026-06-07T23:30:00Z", false}, // 00:30 local monday
		{"business sunday local", business, "2026-06-07T08:30:00Z", false},
		{"night friday 22:00", night, "2026-06-05T22:00:00Z", true},
		{"night friday 21:59", night, "2026-06-05T21:59:59Z", false},
		{"night saturday 01:59", night, "2026-06-06T01:59:59Z", true},
		{"night saturday 02:00", night, "2026-06-06T02:00:00Z", false},
		{"night friday 01:00 belongs to thursday", night, "2026-06-05T01:00:00Z", false},
		{"bounded before after", bounded, "2026-06-05T09:59:59Z", false},
		{"bounded at after", bounded, "2026-06-05T10:00:00Z", true},
		{"bounded at before", bounded, "2026-06-05T11:00:00Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if have := tt.a.At(at(tt.t)); have != tt.want {
				t.Fatalf("At(%s) = %v, want %v", tt.t, have, tt.want)
			}
		})
	}
}

// TestActive_next walks a week minute by minute and checks that At never
// changes between t and Next(t).
func TestActive_next(t *testing.T) {
	windows := []*Active{
		{Days: 1<<time.Monday | 1<<time.Friday, Hours: true, From: 9 * 60, To: 17*60 + 30, Offset: -9000},
		{Days: 1 << time.Saturday, Hours: true, From: 22 * 60, To: 2 * 60, Offset: 50400},
		{Hours: true, From: 23 * 60, To: 0},
		{Days: 1 << time.Sunday},
		{After: time.Date(2026, 6, 3, 12, 0, 0, 0, time.UTC).UnixNano(), Before: time.Date(2026, 6, 4, 12, 0, 0, 0, time.UTC).UnixNano(),
			Hours: true, From: 60, To: 120},
	}
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for wi, a := range windows {
		next := a.Next(start)
		state := a.At(start)
		for tm := start; tm < start+int64(8*24*time.Hour); tm += int64(time.Minute) {
			if next != 0 && tm >= next {
				next, state = a.Next(tm), a.At(tm)
				continue
			}
			if a.At(tm) != state {
				t.Fatalf("window %d: At changed at %v before Next said (%v)", wi, time.Unix(0, tm).UTC(), time.Unix(0, next).UTC())
			}
		}
	}
}

func TestRamp_at(t *testing.T) {
	r := &Ramp{FromPPM: 100000, ToPPM: 400000, Over: 10 * time.Minute, Steps: 3}
	tests := []struct {
		elapsed time.Duration
		ppm     uint32
		next    time.Duration
	}{
		{-time.Second, 100000, 0},
		{0, 100000, 200 * time.Second},
		{200*time.Second - 1, 100000, 200 * time.Second},
		{200 * time.Second, 200000, 400 * time.Second},
		{599 * time.Second, 300000, 600 * time.Second},
		{600 * time.Second, 400000, -1},
		{time.Hour, 400000, -1},
	}
	for _, tt := range tests {
		ppm, next := r.At(tt.elapsed)
		if ppm != tt.ppm || next != tt.next {
			t.Fatalf("At(%v) = %d, %v; want %d, %v", tt.elapsed, ppm, next, tt.ppm, tt.next)
		}
	}
	down := &Ramp{FromPPM: 500000, ToPPM: 0, Over: 4 * time.Second, Steps: 4}
	if ppm, _ := down.At(3 * time.Second); ppm != 125000 {
		t.Fatalf("downward ramp at 3s: %d, want 125000", ppm)
	}
}

// TestParseRFC3339 compares the small reader with the time package on valid
// inputs and checks it refuses what RFC 3339 does not allow.
func TestParseRFC3339(t *testing.T) {
	valid := []string{"1970-01-01T00:00:00Z", "2026-12-24T18:00:00Z",
		"2028-02-29T23:59:59.999999999+14:00", "2026-06-01T10:00:00.5-05:30", "2261-12-31T23:59:59Z",
		"2100-02-28T12:00:00.123456789123Z"}
	for _, s := range valid {
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("time.Parse(%q): %v", s, err)
		}
		have, ok := parseRFC3339(s)
		if !ok || have != want.UnixNano() {
			t.Fatalf("parseRFC3339(%q) = %d, %v; want %d", s, have, ok, want.UnixNano())
		}
	}
	invalid := []string{"", "2026-12-24", "2026-12-24 18:00:00Z", "2026-12-24T18:00:00", "2027-02-29T00:00:00Z",
		"2100-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-00-01T00:00:00Z", "2026-12-24T24:00:00Z",
		"2026-12-24T18:60:00Z", "2026-12-24T18:00:60Z", "2026-12-24T18:00:00.Z", "2026-12-24T18:00:00+1:00",
		"2026-12-24T18:00:00+01:60", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00+01:00", "2262-01-01T00:00:00Z", "2026-12-24t18:00:00z",
		"2026-12-24T18:00:00Zjunk", "+026-12-24T18:00:00Z"}
	for _, s := range invalid {
		if n, ok := parseRFC3339(s); ok {
			t.Fatalf("parseRFC3339(%q) accepted: %d", s, n)
		}
	}
}

func TestParse_haltErrors(t *testing.T) {
	const abort = `"abort":{"percent":1},`
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"no threshold", rule(abort + `"halt":{"window":"10s"}`), []string{
			`rules[0] (p).halt: must set max_error_percent or max_slow_percent (or both)`}},
		{"slow missing", rule(abort + `"halt":{"max_slow_percent":10}`), []string{
			`rules[0] (p).halt.slow: required with max_slow_percent`}},
		{"slow alone", rule(abort + `"halt":{"max_error_percent":10,"slow":"1s"}`), []string{
			`rules[0] (p).halt.slow: only with max_slow_percent`}},
		{"bad values", rule(abort + `"halt":{"max_error_percent":101,"window":"10ms","min_requests":0,"cooldown":"48h","x":1}`), []string{
			`rules[0] (p).halt.max_error_percent: must be in [0, 100], got 101`,
			`rules[0] (p).halt.window: must be in [1s, 1h], got "10ms"`,
			`rules[0] (p).halt.min_requests: must be in [1, 1000000], got 0`,
			`rules[0] (p).halt.cooldown: must be in [1s, 24h], got "48h"`,
			`rules[0] (p).halt.x: unknown field`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			have := problems(t, tt.input)
			if strings.Join(have, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(have, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	c, err := Parse([]byte(rule(abort + `"halt":{"max_slow_percent":12.5,"slow":"1s"}`)))
	if err != nil {
		t.Fatal(err)
	}
	want := Halt{MaxSlowPPM: 125000, HasSlow: true, Slow: time.Second, Window: DefaultHaltWindow,
		MinRequests: DefaultHaltMinRequests, Cooldown: DefaultHaltCooldown}
	if *c.Rules[0].Halt != want {
		t.Fatalf("halt %+v, want %+v", *c.Rules[0].Halt, want)
	}
}

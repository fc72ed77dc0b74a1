package main

import (
	"time"

	"github.com/tidwall/gjson"
)

// expiryNote tells how long a valid configuration has left before its
// expires instant (the dead man's switch), or that it has expired and
// injects nothing: "" when it has no expires. It runs after the filter
// accepted the configuration, so the value parses.
func expiryNote(cfg []byte, now time.Time) string {
	v := gjson.GetBytes(cfg, "expires")
	if v.Type != gjson.String {
		return ""
	}
	exp, err := time.Parse(time.RFC3339, v.Str)
	if err != nil {
		return ""
	}
	when := exp.UTC().Format(time.RFC3339)
	left := exp.Sub(now)
	if left <= 0 {
		return ", expired " + roundLeft(-left).String() + " ago (" + when + "): injects nothing"
	}
	return ", expires in " + roundLeft(left).String() + " (" + when + ")"
}

// roundLeft rounds to the second, or to the minute beyond an hour.
func roundLeft(d time.Duration) time.Duration {
	if d >= time.Hour {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}

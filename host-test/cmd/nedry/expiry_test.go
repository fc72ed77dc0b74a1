package main

import (
	"testing"
	"time"
)

func TestExpiryNote(t *testing.T) {
	now := time.Date(2026, 12, 24, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name, cfg, want string
	}{
		{"none", `{"rules":[]}`, ""},
		{"left", `{"expires":"2026-12-24T18:30:20+00:00"}`, ", expires in 3h30m0s (2026-12-24T18:30:20Z)"},
		{"seconds", `{"expires":"2026-12-24T15:00:42Z"}`, ", expires in 42s (2026-12-24T15:00:42Z)"},
		{"expired", `{"expires":"2026-12-24T16:00:00+02:00"}`, ", expired 1h0m0s ago (2026-12-24T14:00:00Z): injects nothing"},
		{"at instant", `{"expires":"2026-12-24T15:00:00Z"}`, ", expired 0s ago (2026-12-24T15:00:00Z): injects nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if have := expiryNote([]byte(tt.cfg), now); have != tt.want {
				t.Fatalf("have %q, want %q", have, tt.want)
			}
		})
	}
}

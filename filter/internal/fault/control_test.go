package fault

import (
	"testing"
	"time"

	"github.com/nedry-chaos/nedry/filter/internal/config"
)

func TestParseControl(t *testing.T) {
	on := config.HeaderControl{Enabled: true, MaxDelay: 10 * time.Second}
	secret := config.HeaderControl{Enabled: true, Secret: "s3cret", MaxDelay: 10 * time.Second}
	none := Control{GRPCStatus: -1}
	tests := []struct {
		name    string
		hc      config.HeaderControl
		headers map[string]string
		want    Control
	}{
		{"disabled", config.HeaderControl{MaxDelay: time.Second}, map[string]string{HeaderAbort: "503"}, none},
		{"no headers", on, nil, none},
		{"abort", on, map[string]string{HeaderAbort: "503"}, Control{AbortStatus: 503, GRPCStatus: -1, Any: true}},
		{"abort bounds", on, map[string]string{HeaderAbort: "200"}, Control{AbortStatus: 200, GRPCStatus: -1, Any: true}},
		{"abort too high ignored", on, map[string]string{HeaderAbort: "600"}, none},
		{"abort too low ignored", on, map[string]string{HeaderAbort: "199"}, none},
		{"abort word ignored", on, map[string]string{HeaderAbort: "five"}, none},
		{"abort negative ignored", on, map[string]string{HeaderAbort: "-503"}, none},
		{"abort spaces trimmed", on, map[string]string{HeaderAbort: " 429 "}, Control{AbortStatus: 429, GRPCStatus: -1, Any: true}},
		{"grpc", on, map[string]string{HeaderAbortGRPC: "14"}, Control{GRPCStatus: 14, Any: true}},
		{"grpc zero", on, map[string]string{HeaderAbortGRPC: "0"}, Control{GRPCStatus: 0, Any: true}},
		{"grpc too high ignored", on, map[string]string{HeaderAbortGRPC: "17"}, none},
		{"delay", on, map[string]string{HeaderDelayMS: "250"}, Control{GRPCStatus: -1, Delay: 250 * time.Millisecond, Any: true}},
		{"delay capped", on, map[string]string{HeaderDelayMS: "60000"}, Control{GRPCStatus: -1, Delay: 10 * time.Second, Any: true}},
		{"delay huge capped", on, map[string]string{HeaderDelayMS: "9999999999999999999"}, Control{GRPCStatus: -1, Delay: 10 * time.Second, Any: true}},
		{"delay too many digits ignored", on, map[string]string{HeaderDelayMS: "99999999999999999999"}, none},
		{"delay zero ignored", on, map[string]string{HeaderDelayMS: "0"}, none},
		{"delay fraction ignored", on, map[string]string{HeaderDelayMS: "1.5"}, none},
		{"delay empty ignored", on, map[string]string{HeaderDelayMS: ""}, none},
		{"all", on, map[string]string{HeaderAbort: "500", HeaderAbortGRPC: "2", HeaderDelayMS: "5"},
			Control{AbortStatus: 500, GRPCStatus: 2, Delay: 5 * time.Millisecond, Any: true}},
		{"invalid beside valid", on, map[string]string{HeaderAbort: "abc", HeaderDelayMS: "5"},
			Control{GRPCStatus: -1, Delay: 5 * time.Millisecond, Any: true}},
		{"secret missing", secret, map[string]string{HeaderAbort: "503"}, none},
		{"secret wrong", secret, map[string]string{HeaderAbort: "503", HeaderSecret: "s3creT"}, none},
		{"secret prefix", secret, map[string]string{HeaderAbort: "503", HeaderSecret: "s3cre"}, none},
		{"secret longer", secret, map[string]string{HeaderAbort: "503", HeaderSecret: "s3cret1"}, none},
		{"secret right", secret, map[string]string{HeaderAbort: "503", HeaderSecret: "s3cret"}, Control{AbortStatus: 503, GRPCStatus: -1, Any: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			get := func(name string) (string, bool) {
				v, ok := tc.headers[name]
				return v, ok
			}
			if have := ParseControl(tc.hc, get); have != tc.want {
				t.Fatalf("ParseControl = %+v, want %+v", have, tc.want)
			}
		})
	}
}

func TestParseControl_noAllocs(t *testing.T) {
	hc := config.HeaderControl{Enabled: true, Secret: "s3cret", MaxDelay: time.Second}
	get := func(name string) (string, bool) {
		switch name {
		case HeaderSecret:
			return "s3cret", true
		case HeaderDelayMS:
			return "not a number", true
		case HeaderAbort:
			return "503", true
		}
		return "", false
	}
	if n := testing.AllocsPerRun(100, func() { ParseControl(hc, get) }); n != 0 {
		t.Fatalf("ParseControl allocates %v times", n)
	}
}

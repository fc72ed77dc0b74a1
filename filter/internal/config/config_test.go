package config

import (
	"strconv"
	"strings"
	"testing"
)

func TestError_capped(t *testing.T) {
	var rules []string
	for i := 0; i < 60; i++ {
		rules = append(rules, `{"name":"r`+strconv.Itoa(i)+`","reset":{"percent":101}}`)
	}
	_, err := Parse([]byte(`{"rules":[` + strings.Join(rules, ",") + `]}`))
	if err == nil {
		t.Fatal("accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 51 {
		t.Fatalf("Error() has %d lines, want 51", len(lines))
	}
	if have, want := lines[0], "rules[0] (r0).reset.percent: must be in [0, 100], got 101"; have != want {
		t.Fatalf("first line %q, want %q", have, want)
	}
	if have, want := lines[49], "rules[49] (r49).reset.percent: must be in [0, 100], got 101"; have != want {
		t.Fatalf("line 50 %q, want %q", have, want)
	}
	if have, want := lines[50], "... and 10 more errors"; have != want {
		t.Fatalf("last line %q, want %q", have, want)
	}
	if n := len(err.(*Error).Problems); n != 60 {
		t.Fatalf("Problems has %d entries, want 60", n)
	}
}

func TestConfig_summary(t *testing.T) {
	var rules []string
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		rules = append(rules, `{"name":"`+n+`","reset":{"percent":1}}`)
	}
	c, err := Parse([]byte(`{"seed":42,"rules":[` + strings.Join(rules, ",") + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	if have, want := c.Summary(), "7 rules (a, b, c, d, e, ... 2 more), enabled, seed 42, tick 5ms"; have != want {
		t.Fatalf("Summary() = %q, want %q", have, want)
	}
}

func TestRule_tag(t *testing.T) {
	c, err := Parse([]byte(rule(`"reset":{"percent":1}`)))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Rules[0]
	tests := []struct {
		f    FaultSet
		want string
	}{
		{0, ""},
		{FaultAbort, "p; abort"},
		{FaultDelay | FaultCorrupt, "p; delay,corrupt"},
		{FaultDelay | FaultAbort | FaultCorrupt | FaultReset, "p; delay,abort,corrupt,reset"},
		{FaultReset, "p; reset"},
	}
	for _, tc := range tests {
		if have := r.Tag(tc.f); have != tc.want {
			t.Fatalf("Tag(%b) = %q, want %q", tc.f, have, tc.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = r.Tag(FaultReset) }); n != 0 {
		t.Fatalf("Tag allocates %v times", n)
	}
}

func TestConfig_match(t *testing.T) {
	c, err := Parse([]byte(`{"rules":[
		{"name":"canary","match":{"headers":[{"name":"x-canary","present":true}]},"reset":{"percent":1}},
		{"name":"pay-post","match":{"path":"/pay","methods":["POST"]},"abort":{"percent":1}},
		{"name":"route","match":{"route_name":"r1"},"abort":{"percent":1}},
		{"name":"api","match":{"prefix":"/api/"},"abort":{"percent":1}},
		{"name":"v2","match":{"prefix":"/api/v2/","authority":"a.example"},"abort":{"percent":1}},
		{"name":"all","abort":{"percent":1}}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		r    fakeRequest
		want string
	}{
		{fakeRequest{path: "/pay", method: "POST", headers: map[string]string{"x-canary": "1"}}, "canary"},
		{fakeRequest{path: "/pay?x=1", method: "POST"}, "pay-post"},
		{fakeRequest{path: "/pay", method: "GET", route: "r1"}, "route"},
		{fakeRequest{path: "/api/v2/x", authority: "a.example"}, "api"},
		{fakeRequest{path: "/other", route: "r2"}, "all"},
	}
	for _, tc := range tests {
		r := c.Match(&tc.r)
		if r == nil || r.Name != tc.want {
			t.Fatalf("Match(%+v) = %v, want %s", tc.r, r, tc.want)
		}
	}
	n := c.Needs()
	if !n.RouteName || n.VirtualHost || n.Cluster || !n.Path || !n.Method || !n.Authority || len(n.Headers) != 1 || n.Headers[0] != "x-canary" {
		t.Fatalf("Needs = %+v", n)
	}
}

package config

import (
	"strconv"
	"strings"
	"testing"
)

// benchRules returns a config of n rules cycling through the three indexed
// kinds (route_name, path, prefix), and a request that matches the last rule,
// so every size does the same work on the request.
func benchRules(n int) ([]byte, fakeRequest) {
	var b strings.Builder
	b.WriteString(`{"rules":[`)
	var r fakeRequest
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		s := strconv.Itoa(i)
		var cond string
		r = fakeRequest{route: "other", path: "/none/x", method: "GET"}
		switch i % 3 {
		case 0:
			cond = `"route_name":"route-` + s + `"`
			r.route = "route-" + s
		case 1:
			cond = `"path":"/exact/` + s + `"`
			r.path = "/exact/" + s
		case 2:
			cond = `"prefix":"/svc/` + s + `/"`
			r.path = "/svc/" + s + "/items?page=2"
		}
		b.WriteString(`{"name":"r` + s + `","match":{` + cond + `},"abort":{"percent":1}}`)
	}
	b.WriteString(`]}`)
	return []byte(b.String()), r
}

func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{1, 10, 1000, 10000} {
		data, req := benchRules(n)
		c, err := Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("rules_"+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if c.Match(&req) == nil {
					b.Fatal("no match")
				}
			}
		})
		miss := fakeRequest{route: "other", path: "/svc/none/x", method: "GET"}
		b.Run("rules_"+strconv.Itoa(n)+"_no_match", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if c.Match(&miss) != nil {
					b.Fatal("match")
				}
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	data, _ := benchRules(1000)
	b.Run("rules_1000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse([]byte(fullConfig)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

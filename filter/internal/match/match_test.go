package match

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"testing"
)

// req is a Request over plain fields that counts accessor calls, so tests
// can check the matcher reads only what it needs.
type req struct {
	route, vhost, cluster, path, method, authority string
	headers                                        map[string]string
	calls                                          map[string]int
}

func (r *req) count(name string) {
	if r.calls != nil {
		r.calls[name]++
	}
}
func (r *req) RouteName() string   { r.count("route"); return r.route }
func (r *req) VirtualHost() string { r.count("vhost"); return r.vhost }
func (r *req) Cluster() string     { r.count("cluster"); return r.cluster }
func (r *req) Path() string        { r.count("path"); return r.path }
func (r *req) Method() string      { r.count("method"); return r.method }
func (r *req) Authority() string   { r.count("authority"); return r.authority }
func (r *req) Header(name string) (string, bool) {
	if r.calls != nil {
		r.calls["header:"+name]++
	}
	v, ok := r.headers[name]
	return v, ok
}

func TestConditions_kinds(t *testing.T) {
	base := req{route: "r1", vhost: "vh", cluster: "c1", path: "/api/v1/users", method: "POST",
		authority: "api.example.com", headers: map[string]string{"x-group": "beta-users", "user-agent": "curl/8.0"}}
	re := regexp.MustCompile
	tests := []struct {
		name string
		c    Conditions
		want bool
	}{
		{"empty matches all", Conditions{}, true},
		{"route_name", Conditions{RouteName: "r1"}, true},
		{"route_name other", Conditions{RouteName: "r2"}, false},
		{"virtual_host", Conditions{VirtualHost: "vh"}, true},
		{"virtual_host other", Conditions{VirtualHost: "vh2"}, false},
		{"cluster", Conditions{Cluster: "c1"}, true},
		{"cluster other", Conditions{Cluster: "c"}, false},
		{"path", Conditions{Path: "/api/v1/users"}, true},
		{"path is exact", Conditions{Path: "/api/v1"}, false},
		{"prefix", Conditions{Prefix: "/api/"}, true},
		{"prefix whole path", Conditions{Prefix: "/api/v1/users"}, true},
		{"prefix other", Conditions{Prefix: "/apx"}, false},
		{"regex", Conditions{Regex: re(`^/api/v[0-9]+/users$`)}, true},
		{"regex other", Conditions{Regex: re(`^/v[0-9]+/`)}, false},
		{"methods", Conditions{Methods: []string{"GET", "POST"}}, true},
		{"methods other", Conditions{Methods: []string{"GET"}}, false},
		{"methods case-sensitive", Conditions{Methods: []string{"post"}}, false},
		{"authority", Conditions{Authority: "api.example.com"}, true},
		{"authority other", Conditions{Authority: "example.com"}, false},
		{"header exact", Conditions{Headers: []HeaderMatcher{{Name: "x-group", Kind: HeaderExact, Value: "beta-users"}}}, true},
		{"header exact other", Conditions{Headers: []HeaderMatcher{{Name: "x-group", Kind: HeaderExact, Value: "beta"}}}, false},
		{"header prefix", Conditions{Headers: []HeaderMatcher{{Name: "x-group", Kind: HeaderPrefix, Value: "beta"}}}, true},
		{"header prefix other", Conditions{Headers: []HeaderMatcher{{Name: "x-group", Kind: HeaderPrefix, Value: "users"}}}, false},
		{"header suffix", Conditions{Headers: []HeaderMatcher{{Name: "x-group", Kind: HeaderSuffix, Value: "-users"}}}, true},
		{"header suffix other", Conditions{Headers: []HeaderMatcher{{Name: "x-group", Kind: HeaderSuffix, Value: "beta"}}}, false},
		{"header contains", Conditions{Headers: []HeaderMatcher{{Name: "x-group", Kind: HeaderContains, Value: "a-u"}}}, true},
		{"header contains other", Conditions{Headers: []HeaderMatcher{{Name: "x-group", Kind: HeaderContains, Value: "gamma"}}}, false},
		{"header regex", Conditions{Headers: []HeaderMatcher{{Name: "user-agent", Kind: HeaderRegex, Regex: re(`^curl/`)}}}, true},
		{"header regex other", Conditions{Headers: []HeaderMatcher{{Name: "user-agent", Kind: HeaderRegex, Regex: re(`^wget/`)}}}, false},
		{"header present", Conditions{Headers: []HeaderMatcher{{Name: "x-group", Kind: HeaderPresent, Present: true}}}, true},
		{"header present absent", Conditions{Headers: []HeaderMatcher{{Name: "x-none", Kind: HeaderPresent, Present: true}}}, false},
		{"header present false absent", Conditions{Headers: []HeaderMatcher{{Name: "x-none", Kind: HeaderPresent, Present: false}}}, true},
		{"header present false present", Conditions{Headers: []HeaderMatcher{{Name: "x-group", Kind: HeaderPresent, Present: false}}}, false},
		{"header value matcher on absent header", Conditions{Headers: []HeaderMatcher{{Name: "x-none", Kind: HeaderExact, Value: ""}}}, false},
		{"invert exact", Conditions{Headers: []HeaderMatcher{{Name: "x-group", Kind: HeaderExact, Value: "beta-users", Invert: true}}}, false},
		{"invert exact other", Conditions{Headers: []HeaderMatcher{{Name: "x-group", Kind: HeaderExact, Value: "beta", Invert: true}}}, true},
		{"invert regex", Conditions{Headers: []HeaderMatcher{{Name: "user-agent", Kind: HeaderRegex, Regex: re(`curl/.*`), Invert: true}}}, false},
		{"invert value matcher on absent header", Conditions{Headers: []HeaderMatcher{{Name: "x-none", Kind: HeaderExact, Value: "1", Invert: true}}}, true},
		{"invert present", Conditions{Headers: []HeaderMatcher{{Name: "x-group", Kind: HeaderPresent, Present: true, Invert: true}}}, false},
		{"all hold", Conditions{RouteName: "r1", VirtualHost: "vh", Cluster: "c1", Prefix: "/api", Methods: []string{"POST"},
			Authority: "api.example.com", Headers: []HeaderMatcher{{Name: "x-group", Kind: HeaderPrefix, Value: "beta"}}}, true},
		{"one fails", Conditions{RouteName: "r1", VirtualHost: "vh", Cluster: "c1", Prefix: "/api", Methods: []string{"GET"},
			Authority: "api.example.com"}, false},
		{"two headers one fails", Conditions{Headers: []HeaderMatcher{
			{Name: "x-group", Kind: HeaderPresent, Present: true}, {Name: "user-agent", Kind: HeaderContains, Value: "wget"}}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			if have := tc.c.Matches(&r); have != tc.want {
				t.Fatalf("Conditions.Matches = %v, want %v", have, tc.want)
			}
			tab := Build([]Conditions{tc.c})
			want := -1
			if tc.want {
				want = 0
			}
			if have := tab.Match(&r); have != want {
				t.Fatalf("Table.Match = %d, want %d", have, want)
			}
		})
	}
}

func TestStripQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/a", "/a"}, {"/a?b=1", "/a"}, {"/a#f", "/a"}, {"/a?b#f", "/a"}, {"?x", ""}, {"", ""},
	}
	for _, tc := range tests {
		if have := StripQuery(tc.in); have != tc.want {
			t.Fatalf("StripQuery(%q) = %q, want %q", tc.in, have, tc.want)
		}
	}
}

func TestTable_queryStripped(t *testing.T) {
	tab := Build([]Conditions{
		{Path: "/exact"},
		{Prefix: "/pre/"},
		{Regex: regexp.MustCompile(`^/re$`)},
	})
	tests := []struct {
		path string
		want int
	}{
		{"/exact?x=1", 0}, {"/exact#frag", 0}, {"/exact/x?y", -1},
		{"/pre/a?b=/c", 1}, {"/pre?/pre/", -1},
		{"/re?q=1", 2}, {"/re", 2}, {"/re/x", -1},
	}
	for _, tc := range tests {
		if have := tab.Match(&req{path: tc.path}); have != tc.want {
			t.Fatalf("Match(%q) = %d, want %d", tc.path, have, tc.want)
		}
	}
}

func TestTable_firstMatchOrder(t *testing.T) {
	header := HeaderMatcher{Name: "x-a", Kind: HeaderPresent, Present: true}
	tests := []struct {
		name  string
		conds []Conditions
		r     req
		want  int
	}{
		{"unindexed before indexed", []Conditions{{Headers: []HeaderMatcher{header}}, {Path: "/a"}, {RouteName: "r"}},
			req{path: "/a", route: "r", headers: map[string]string{"x-a": ""}}, 0},
		{"unindexed fails, path next", []Conditions{{Headers: []HeaderMatcher{header}}, {Path: "/a"}, {RouteName: "r"}},
			req{path: "/a", route: "r"}, 1},
		{"route before path", []Conditions{{Headers: []HeaderMatcher{header}}, {RouteName: "r"}, {Path: "/a"}},
			req{path: "/a", route: "r"}, 1},
		{"match-all last", []Conditions{{RouteName: "r"}, {Path: "/a"}, {}}, req{path: "/b", route: "x"}, 2},
		{"match-all first", []Conditions{{}, {RouteName: "r"}, {Path: "/a"}}, req{path: "/a", route: "r"}, 0},
		{"same key, first fails", []Conditions{{Path: "/a", Methods: []string{"POST"}}, {Path: "/a"}}, req{path: "/a", method: "GET"}, 1},
		{"same key, first holds", []Conditions{{Path: "/a", Methods: []string{"POST"}}, {Path: "/a"}}, req{path: "/a", method: "POST"}, 0},
		{"longer prefix first", []Conditions{{Prefix: "/api/v1"}, {Prefix: "/api"}}, req{path: "/api/v1/x"}, 0},
		{"shorter prefix first", []Conditions{{Prefix: "/api"}, {Prefix: "/api/v1"}}, req{path: "/api/v1/x"}, 0},
		{"longer prefix not matching", []Conditions{{Prefix: "/api/v1"}, {Prefix: "/api"}}, req{path: "/api/v2"}, 1},
		{"prefix then exact path", []Conditions{{Prefix: "/a", Methods: []string{"PUT"}}, {Path: "/a/b"}, {Prefix: "/"}}, req{path: "/a/b", method: "GET"}, 1},
		{"authority vhost cluster", []Conditions{{Cluster: "c"}, {VirtualHost: "v"}, {Authority: "h"}}, req{cluster: "c", vhost: "v", authority: "h"}, 0},
		{"vhost after failing cluster", []Conditions{{Cluster: "c"}, {VirtualHost: "v"}, {Authority: "h"}}, req{cluster: "x", vhost: "v", authority: "h"}, 1},
		{"no rule", []Conditions{{Path: "/a"}, {Prefix: "/b"}}, req{path: "/c"}, -1},
		{"no rules", nil, req{path: "/"}, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r
			if have := Build(tc.conds).Match(&r); have != tc.want {
				t.Fatalf("Match = %d, want %d", have, tc.want)
			}
		})
	}
}

func TestTable_readsOnlyWhatItNeeds(t *testing.T) {
	// Only route names: the path and headers are never read. Accessors
	// may be called more than once (the plugin caches their values).
	r := &req{route: "r1", path: "/x", calls: map[string]int{}}
	Build([]Conditions{{RouteName: "r0"}, {RouteName: "r1"}}).Match(r)
	if len(r.calls) != 1 || r.calls["route"] == 0 {
		t.Fatalf("calls = %v, want RouteName only", r.calls)
	}
	// A match-all first rule decides before any attribute is read.
	r = &req{route: "r1", path: "/x", calls: map[string]int{}}
	if have := Build([]Conditions{{}, {RouteName: "r1"}, {Prefix: "/"}}).Match(r); have != 0 {
		t.Fatalf("Match = %d, want 0", have)
	}
	if len(r.calls) != 0 {
		t.Fatalf("calls = %v, want none", r.calls)
	}
	// An early indexed match skips the later indexes.
	r = &req{route: "r1", path: "/x", calls: map[string]int{}}
	if have := Build([]Conditions{{RouteName: "r1"}, {Prefix: "/"}, {Cluster: "c"}}).Match(r); have != 0 {
		t.Fatalf("Match = %d, want 0", have)
	}
	if len(r.calls) != 1 || r.calls["route"] == 0 {
		t.Fatalf("calls = %v, want RouteName only", r.calls)
	}
}

func TestTable_needs(t *testing.T) {
	tab := Build([]Conditions{
		{RouteName: "r", Headers: []HeaderMatcher{{Name: "x-a", Kind: HeaderPresent, Present: true}}},
		{Regex: regexp.MustCompile("x"), Methods: []string{"GET"}, Headers: []HeaderMatcher{
			{Name: "x-b", Kind: HeaderPresent, Present: true}, {Name: "x-a", Kind: HeaderExact}}},
	})
	n := tab.Needs()
	if !n.RouteName || n.VirtualHost || n.Cluster || !n.Path || !n.Method || n.Authority ||
		len(n.Headers) != 2 || n.Headers[0] != "x-a" || n.Headers[1] != "x-b" {
		t.Fatalf("Needs = %+v", n)
	}
	if n := Build(nil).Needs(); n.RouteName || n.Path || n.Headers != nil {
		t.Fatalf("Needs of an empty table = %+v", n)
	}
}

// TestTable_againstLinearScan compares the indexed table with the obvious
// linear scan on random rule sets and requests drawn from a small alphabet,
// so prefixes share edges, split nodes and collide with exact paths.
func TestTable_againstLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	segs := []string{"/", "/a", "/ab", "/abc", "/a/b", "/b", "/ba", "/abd", "/a/", "/abcd"}
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	for round := 0; round < 300; round++ {
		n := 1 + rng.IntN(40)
		conds := make([]Conditions, n)
		for i := range conds {
			c := &conds[i]
			if rng.IntN(3) == 0 {
				c.Prefix = pick(segs)
			}
			if rng.IntN(4) == 0 {
				c.Path = pick(segs)
			}
			if rng.IntN(4) == 0 {
				c.RouteName = pick([]string{"r0", "r1"})
			}
			if rng.IntN(5) == 0 {
				c.Cluster = pick([]string{"c0", "c1"})
			}
			if rng.IntN(5) == 0 {
				c.VirtualHost = pick([]string{"v0", "v1"})
			}
			if rng.IntN(5) == 0 {
				c.Authority = pick([]string{"h0", "h1"})
			}
			if rng.IntN(5) == 0 {
				c.Methods = []string{pick([]string{"GET", "POST"})}
			}
			if rng.IntN(6) == 0 {
				c.Headers = []HeaderMatcher{{Name: "x", Kind: HeaderPresent, Present: rng.IntN(2) == 0}}
			}
		}
		tab := Build(conds)
		for k := 0; k < 50; k++ {
			r := &req{
				path:      pick(segs) + pick([]string{"", "c", "/x", "?q=/a"}),
				route:     pick([]string{"r0", "r1", "r2"}),
				cluster:   pick([]string{"c0", "c1"}),
				vhost:     pick([]string{"v0", "v1"}),
				authority: pick([]string{"h0", "h1"}),
				method:    pick([]string{"GET", "POST"}),
			}
			if rng.IntN(2) == 0 {
				r.headers = map[string]string{"x": "1"}
			}
			want := -1
			for i := range conds {
				if conds[i].Matches(r) {
					want = i
					break
				}
			}
			if have := tab.Match(r); have != want {
				t.Fatalf("round %d: Match(%+v) = %d, linear scan = %d\nconds: %+v", round, *r, have, want, conds)
			}
		}
	}
}

func TestTable_noAllocs(t *testing.T) {
	conds := make([]Conditions, 0, 300)
	for i := 0; i < 100; i++ {
		s := strconv.Itoa(i)
		conds = append(conds, Conditions{RouteName: "r" + s}, Conditions{Path: "/p" + s}, Conditions{Prefix: "/x/" + s + "/"})
	}
	conds = append(conds, Conditions{Regex: regexp.MustCompile(`^/re/[0-9]+$`), Headers: []HeaderMatcher{
		{Name: "x-a", Kind: HeaderRegex, Regex: regexp.MustCompile(`^b`)}}})
	tab := Build(conds)
	r := &req{route: "none", path: "/re/12?q", headers: map[string]string{"x-a": "beta"}}
	if have := tab.Match(r); have != 300 {
		t.Fatalf("Match = %d, want 300", have)
	}
	for _, p := range []string{"/x/42/y", "/p7", "/re/1"} {
		r.path = p
		if n := testing.AllocsPerRun(200, func() { tab.Match(r) }); n != 0 {
			t.Fatalf("Match(%q) allocates %v times per call", p, n)
		}
	}
}

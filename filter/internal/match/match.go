// Package match decides which rule a request belongs to.
//
// It runs natively in tests and inside the guest (GOOS=wasip1). A Table is
// compiled once, at configure time, from the rules' conditions: hash tables
// for route name, virtual host, cluster, path and authority, a radix trie for
// path prefixes and regular expressions compiled up front. Table.Match then
// finds the first matching rule in config order without allocating and
// without compiling anything, at a cost that does not grow with the number of
// indexed rules.
package match

import (
	"regexp"
	"strings"
)

// MaxRegexInput is the longest input a regular expression is run on: the
// path without its query string, or a header value. A regex condition on a
// longer input does not hold, and an inverted header regex does not hold
// either, so a long input can only keep a rule from matching, never make one
// match. Go's regexp costs up to the input length times the program size
// (about 85 ns per step in the guest); with config.MaxRegexBudget this
// bounds the regex work of one request.
const MaxRegexInput = 1024

// Request is the read-only view of a request the matcher needs. The plugin
// implements it lazily: every accessor may cost a hostcall the first time, so
// the matcher calls only the accessors some rule needs. An accessor may be
// called more than once per match; implementations cache the value.
type Request interface {
	// RouteName is the xds.route_name property.
	RouteName() string
	// VirtualHost is the xds.virtual_host_name property.
	VirtualHost() string
	// Cluster is the xds.cluster_name property.
	Cluster() string
	// Path is the :path request header without its query string.
	Path() string
	// Method is the :method request header.
	Method() string
	// Authority is the :authority request header.
	Authority() string
	// Header returns the value of a request header by lowercase name. With
	// Envoy this is the first value of a repeated header, as
	// proxy_get_header_map_value returns only that one.
	Header(name string) (value string, ok bool)
}

// Needs lists the request attributes that at least one rule reads, so the
// plugin fetches only those.
type Needs struct {
	RouteName, VirtualHost, Cluster, Path, Method, Authority bool
	// Headers are the distinct header names read by header matchers, in
	// first-use order.
	Headers []string
}

// HeaderKind says how a HeaderMatcher compares a header value.
type HeaderKind uint8

// Header matcher kinds; exactly one per matcher.
const (
	HeaderExact HeaderKind = iota + 1
	HeaderPrefix
	HeaderSuffix
	HeaderContains
	HeaderRegex
	HeaderPresent
)

// HeaderMatcher is one condition on a request header.
//
// A value matcher (exact, prefix, suffix, contains, regex) fails when the
// header is absent. A present matcher holds when the header's presence equals
// Present. Invert flips the final result, so an inverted value matcher also
// holds when the header is absent. A regex matcher on a value longer than
// MaxRegexInput does not hold, inverted or not.
type HeaderMatcher struct {
	Name    string
	Kind    HeaderKind
	Value   string         // for exact, prefix, suffix and contains
	Regex   *regexp.Regexp // for regex, compiled at configure time
	Present bool           // for present
	Invert  bool
}

// Matches reports whether the matcher holds for req.
func (m *HeaderMatcher) Matches(req Request) bool {
	v, ok := req.Header(m.Name)
	var r bool
	switch m.Kind {
	case HeaderPresent:
		r = ok == m.Present
	case HeaderExact:
		r = ok && v == m.Value
	case HeaderPrefix:
		r = ok && strings.HasPrefix(v, m.Value)
	case HeaderSuffix:
		r = ok && strings.HasSuffix(v, m.Value)
	case HeaderContains:
		r = ok && strings.Contains(v, m.Value)
	case HeaderRegex:
		if len(v) > MaxRegexInput {
			return false
		}
		r = ok && m.Regex.MatchString(v)
	}
	return r != m.Invert
}

// Conditions are the conditions of one rule; all given ones must hold. The
// zero value matches every request.
type Conditions struct {
	RouteName   string
	VirtualHost string
	Cluster     string
	Path        string // exact path, without query string
	Prefix      string // path prefix
	Regex       *regexp.Regexp
	Methods     []string
	Authority   string
	Headers     []HeaderMatcher
}

// Matches reports whether every condition holds for req. It evaluates the
// cheapest conditions first and stops at the first that fails.
func (c *Conditions) Matches(req Request) bool {
	if c.RouteName != "" && req.RouteName() != c.RouteName {
		return false
	}
	if c.VirtualHost != "" && req.VirtualHost() != c.VirtualHost {
		return false
	}
	if c.Cluster != "" && req.Cluster() != c.Cluster {
		return false
	}
	if c.Path != "" || c.Prefix != "" || c.Regex != nil {
		p := StripQuery(req.Path())
		if c.Path != "" && p != c.Path {
			return false
		}
		if c.Prefix != "" && !strings.HasPrefix(p, c.Prefix) {
			return false
		}
		if c.Regex != nil && (len(p) > MaxRegexInput || !c.Regex.MatchString(p)) {
			return false
		}
	}
	if c.Authority != "" && req.Authority() != c.Authority {
		return false
	}
	if len(c.Methods) > 0 {
		m := req.Method()
		found := false
		for _, want := range c.Methods {
			if m == want {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for i := range c.Headers {
		if !c.Headers[i].Matches(req) {
			return false
		}
	}
	return true
}

// empty reports whether c has no condition at all.
func (c *Conditions) empty() bool {
	return c.RouteName == "" && c.VirtualHost == "" && c.Cluster == "" && c.Path == "" &&
		c.Prefix == "" && c.Regex == nil && len(c.Methods) == 0 && c.Authority == "" && len(c.Headers) == 0
}

// StripQuery returns p without its query string or fragment. It returns a
// substring of p and never allocates.
func StripQuery(p string) string {
	for i := 0; i < len(p); i++ {
		if p[i] == '?' || p[i] == '#' {
			return p[:i]
		}
	}
	return p
}

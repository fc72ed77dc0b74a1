package config

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/nedry-chaos/nedry/filter/internal/match"
)

func (p *parser) pathValue(path string, v gjson.Result) (string, bool) {
	s, ok := p.nonEmpty(path, v)
	if !ok {
		return "", false
	}
	if s[0] != '/' {
		p.fail(path, `must start with "/"`, v)
		return "", false
	}
	if strings.ContainsAny(s, "?#") {
		p.fail(path, "must not contain a query string or fragment (matching ignores them)", v)
		return "", false
	}
	return s, true
}

func (p *parser) conditions(path string, v gjson.Result, c *match.Conditions) {
	p.object(path, v, func(key, path string, v gjson.Result) bool {
		switch key {
		case "route_name":
			c.RouteName, _ = p.nonEmpty(path, v)
		case "virtual_host":
			c.VirtualHost, _ = p.nonEmpty(path, v)
		case "cluster":
			c.Cluster, _ = p.nonEmpty(path, v)
		case "authority":
			c.Authority, _ = p.nonEmpty(path, v)
		case "path":
			c.Path, _ = p.pathValue(path, v)
		case "prefix":
			c.Prefix, _ = p.pathValue(path, v)
		case "regex":
			c.Regex, _ = p.regex(path, v)
		case "methods":
			c.Methods = p.methods(path, v)
		case "headers":
			c.Headers = p.headerMatchers(path, v)
		default:
			return false
		}
		return true
	})
}

func (p *parser) methods(path string, v gjson.Result) []string {
	if !v.IsArray() {
		p.fail(path, "must be an array of strings", v)
		return nil
	}
	items := v.Array()
	if len(items) == 0 || len(items) > MaxMethods {
		p.fail(path, "must have 1 to "+strconv.Itoa(MaxMethods)+" methods", v)
		return nil
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		ip := index(path, i)
		s, ok := p.str(ip, item)
		if !ok {
			continue
		}
		if !upperToken(s) {
			p.fail(ip, "must be an upper-case method token like \"GET\"", item)
			continue
		}
		out = append(out, s)
	}
	return out
}

var matcherKinds = [...]struct {
	key  string
	kind match.HeaderKind
}{
	{"exact", match.HeaderExact},
	{"prefix", match.HeaderPrefix},
	{"suffix", match.HeaderSuffix},
	{"contains", match.HeaderContains},
	{"regex", match.HeaderRegex},
	{"present", match.HeaderPresent},
}

func (p *parser) headerMatchers(path string, v gjson.Result) []match.HeaderMatcher {
	if !v.IsArray() {
		p.fail(path, "must be an array", v)
		return nil
	}
	items := v.Array()
	if len(items) > MaxHeaderMatches {
		p.fail(path, "must have at most "+strconv.Itoa(MaxHeaderMatches)+" matchers", v)
		return nil
	}
	out := make([]match.HeaderMatcher, 0, len(items))
	for i, item := range items {
		ip := index(path, i)
		var m match.HeaderMatcher
		kinds := 0
		hasName := false
		ok := p.object(ip, item, func(key, kp string, v gjson.Result) bool {
			switch key {
			case "name":
				hasName = true
				s, ok := p.str(kp, v)
				if !ok {
					break
				}
				if why := checkMatchHeaderName(s); why != "" {
					p.fail(kp, why, v)
					break
				}
				m.Name = s
			case "invert":
				m.Invert, _ = p.boolean(kp, v)
			case "present":
				kinds++
				m.Kind = match.HeaderPresent
				m.Present, _ = p.boolean(kp, v)
			case "regex":
				kinds++
				m.Kind = match.HeaderRegex
				m.Regex, _ = p.regex(kp, v)
			case "exact", "prefix", "suffix", "contains":
				kinds++
				for _, mk := range matcherKinds {
					if mk.key == key {
						m.Kind = mk.kind
					}
				}
				s, ok := p.str(kp, v)
				if !ok {
					break
				}
				if s == "" && key != "exact" {
					p.fail(kp, "must not be empty", v)
					break
				}
				if why := checkHeaderValue(s); why != "" {
					p.fail(kp, why, v)
					break
				}
				m.Value = s
			default:
				return false
			}
			return true
		})
		if !ok {
			continue
		}
		if !hasName {
			p.failText(join(ip, "name"), "required")
		}
		if kinds != 1 {
			p.fail(ip, "must have exactly one of exact, prefix, suffix, contains, regex, present", item)
		}
		out = append(out, m)
	}
	return out
}

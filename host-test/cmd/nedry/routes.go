package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
)

// defaultRouteName is the route every request gets when no route of the
// table matches it. Envoy would answer 404 for an unrouted request; a local
// chaos proxy is more useful when everything still reaches the upstream, so
// the table always ends with this implicit catch-all.
const defaultRouteName = "default"

// route is one entry of the route table: requests whose path starts with
// prefix carry name as their xds.route_name property, which is what a rule's
// match.route_name compares against in Envoy.
type route struct {
	name   string
	prefix string
}

// routeTable is an ordered list of routes; the first matching route wins, as
// in an Envoy virtual host.
type routeTable []route

// match returns the name of the first route whose prefix starts path.
func (t routeTable) match(path string) string {
	for _, r := range t {
		if strings.HasPrefix(path, r.prefix) {
			return r.name
		}
	}
	return defaultRouteName
}

// String lists the table as the startup line shows it.
func (t routeTable) String() string {
	var b strings.Builder
	for _, r := range t {
		b.WriteString(r.name)
		b.WriteByte('=')
		b.WriteString(r.prefix)
		b.WriteString(", ")
	}
	b.WriteString(defaultRouteName + " (catch-all)")
	return b.String()
}

// parseRoute parses one NAME=PREFIX entry, as given to --route or written on
// one line of a --routes file.
func parseRoute(s string) (route, error) {
	name, prefix, ok := strings.Cut(strings.TrimSpace(s), "=")
	name, prefix = strings.TrimSpace(name), strings.TrimSpace(prefix)
	switch {
	case !ok:
		return route{}, fmt.Errorf("%q: want NAME=PREFIX", s)
	case name == "":
		return route{}, fmt.Errorf("%q: empty route name", s)
	case !strings.HasPrefix(prefix, "/"):
		return route{}, fmt.Errorf("%q: prefix must start with /, got %q", s, prefix)
	}
	return route{name: name, prefix: prefix}, nil
}

// readRoutes reads a routes file: one NAME=PREFIX per line; blank lines and
// lines starting with # are ignored. Every bad line is reported.
func readRoutes(path string) (routeTable, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		t    routeTable
		errs []error
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, err := parseRoute(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", path, n, err))
			continue
		}
		t = append(t, r)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	return t, errors.Join(errs...)
}

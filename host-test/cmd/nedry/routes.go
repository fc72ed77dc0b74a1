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
// With grpc set (Envoy's match.grpc) only gRPC requests (content-type
// application/grpc…) take the route.
type route struct {
	name   string
	prefix string
	grpc   bool
}

// routeTable is an ordered list of routes; the first matching route wins, as
// in an Envoy virtual host.
type routeTable []route

// match returns the name of the first route whose prefix starts path (and,
// for a gRPC route, whose request is gRPC by its content type).
func (t routeTable) match(path, contentType string) string {
	for _, r := range t {
		if strings.HasPrefix(path, r.prefix) && (!r.grpc || strings.HasPrefix(contentType, "application/grpc")) {
			return r.name
		}
	}
	return defaultRouteName
}

// String lists the table as the startup line shows it.
func (t routeTable) String() string {
	var b strings.Builder
	for i, r := range t {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.name)
		b.WriteByte('=')
		b.WriteString(r.prefix)
		if r.grpc {
			b.WriteString(" (grpc)")
		}
	}
	// A last catch-all route (Envoy's prefix /) leaves the implicit one
	// unreachable: it is not worth a mention then.
	if n := len(t); n == 0 || t[n-1].prefix != "/" || t[n-1].grpc {
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString(defaultRouteName + " (catch-all)")
	}
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

// buildRoutes builds the route table from the route flags, in their order.
// Without any, it is the shipped Envoy bootstrap's (defaultRoutes). from
// says where a default table came from, for the startup line.
func buildRoutes(srcs []routeSource) (t routeTable, from string, err error) {
	if len(srcs) == 0 {
		t, p, err := defaultRoutes()
		if err != nil {
			return nil, "", fmt.Errorf("routes: %w", err)
		}
		if p != "" {
			from = " (from " + defaultEnvoyRoutes + ")"
		}
		return t, from, nil
	}
	for _, s := range srcs {
		var more routeTable
		switch s.flag {
		case "--route":
			r, err := parseRoute(s.value)
			if err != nil {
				return nil, "", fmt.Errorf("--route %w", err)
			}
			more = routeTable{r}
		case "--routes":
			if more, err = readRoutes(s.value); err != nil {
				return nil, "", fmt.Errorf("--routes %w", err)
			}
		case "--envoy-routes":
			if more, err = readEnvoyRoutes(s.value); err != nil {
				return nil, "", fmt.Errorf("--envoy-routes %w", err)
			}
		}
		t = append(t, more...)
	}
	return t, "", nil
}

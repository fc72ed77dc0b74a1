package main

import (
	"errors"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// defaultEnvoyRoutes is the bootstrap whose route table nedry run uses when
// no route flag is given, so a rule written for the shipped Envoy (its
// match.route_name) matches the same requests locally.
const defaultEnvoyRoutes = "envoy/envoy.yaml"

// envoyBootstrap is the part of an Envoy bootstrap nedry run reads: the
// routes of the HTTP connection managers' inline route configurations. It is
// decoded as plain JSON (unknown fields ignored) rather than through Envoy's
// protos: nedry run needs two fields per route, and the protos would cost
// the command seconds of compilation (envoy/ validates the shipped files
// against them).
type envoyBootstrap struct {
	StaticResources struct {
		Listeners []struct {
			FilterChains []struct {
				Filters []struct {
					TypedConfig struct {
						RouteConfig struct {
							VirtualHosts []struct {
								Routes []envoyRoute `json:"routes"`
							} `json:"virtual_hosts"`
						} `json:"route_config"`
					} `json:"typed_config"`
				} `json:"filters"`
			} `json:"filter_chains"`
		} `json:"listeners"`
	} `json:"static_resources"`
}

type envoyRoute struct {
	Name  string `json:"name"`
	Match struct {
		Prefix *string   `json:"prefix"`
		GRPC   *struct{} `json:"grpc"`
	} `json:"match"`
}

// readEnvoyRoutes returns the route table of the first virtual host with
// routes in the Envoy bootstrap at path. Only prefix matches (optionally
// gRPC-only) have a local equivalent; any other route is an error naming it,
// since silently dropping it would route its requests elsewhere.
func readEnvoyRoutes(path string) (routeTable, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var b envoyBootstrap
	if err := yaml.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, l := range b.StaticResources.Listeners {
		for _, fc := range l.FilterChains {
			for _, f := range fc.Filters {
				for _, vh := range f.TypedConfig.RouteConfig.VirtualHosts {
					if len(vh.Routes) == 0 {
						continue
					}
					return envoyRouteTable(path, vh.Routes)
				}
			}
		}
	}
	return nil, fmt.Errorf("%s: no route_config with routes in static_resources.listeners", path)
}

func envoyRouteTable(path string, routes []envoyRoute) (routeTable, error) {
	var (
		t    routeTable
		errs []error
	)
	for i, r := range routes {
		switch {
		case r.Name == "":
			errs = append(errs, fmt.Errorf("%s: routes[%d]: no name, so no rule can match it by route_name", path, i))
		case r.Match.Prefix == nil:
			errs = append(errs, fmt.Errorf("%s: routes[%d] (%s): only prefix matches have a local equivalent", path, i, r.Name))
		default:
			t = append(t, route{name: r.Name, prefix: *r.Match.Prefix, grpc: r.Match.GRPC != nil})
		}
	}
	return t, errors.Join(errs...)
}

// defaultRoutes is the route table nedry run uses without route flags: the
// shipped Envoy bootstrap's, found from the working directory or the
// checkout. Without one (nedry run outside a checkout) every request is on
// the route default.
func defaultRoutes() (routeTable, string, error) {
	for _, p := range []string{defaultEnvoyRoutes, hosttest.RepoPath(defaultEnvoyRoutes)} {
		t, err := readEnvoyRoutes(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		return t, p, err
	}
	return nil, "", nil
}

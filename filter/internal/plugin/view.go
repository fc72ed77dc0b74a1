package plugin

import (
	"errors"

	"github.com/nedry-chaos/nedry/filter/internal/abi"
	"github.com/nedry-chaos/nedry/filter/internal/fault"
	"github.com/nedry-chaos/nedry/filter/internal/match"
)

// Property paths read by the request view, joined once.
var (
	propRouteName   = abi.PropertyPath("xds", "route_name")
	propVirtualHost = abi.PropertyPath("xds", "virtual_host_name")
	propCluster     = abi.PropertyPath("xds", "cluster_name")
)

// The lazy request view for the matcher (match.Request). Headers come from
// the snapshot taken at request headers; properties cost one host call each,
// the first time a rule asks.
var _ match.Request = (*stream)(nil)

func (s *stream) RouteName() string {
	if s.fetched&1 == 0 {
		s.fetched |= 1
		s.routeName, _ = abi.GetPropertyPathTransient(propRouteName)
	}
	return s.routeName
}

func (s *stream) VirtualHost() string {
	if s.fetched&2 == 0 {
		s.fetched |= 2
		s.virtualHost, _ = abi.GetPropertyPathTransient(propVirtualHost)
	}
	return s.virtualHost
}

func (s *stream) Cluster() string {
	if s.fetched&4 == 0 {
		s.fetched |= 4
		s.cluster, _ = abi.GetPropertyPathTransient(propCluster)
	}
	return s.cluster
}

func (s *stream) Path() string { return match.StripQuery(s.path) }

func (s *stream) Method() string { return s.method }

func (s *stream) Authority() string { return s.authority }

func (s *stream) Header(name string) (string, bool) { return s.headers.Get(name) }

// headerMap edits a live header map with host calls (fault.HeaderMap).
type headerMap abi.MapType

// Get reads at most fault.MaxOpValue bytes into guest memory: a longer
// value is declined by the allocator and reported as too long.
func (m headerMap) Get(name string) (string, fault.Lookup) {
	// The value is read at once by ApplyOps (truncate, garble).
	v, err := abi.GetHeaderMapValueBounded(abi.MapType(m), name, fault.MaxOpValue)
	switch {
	case err == nil:
		return v, fault.ValueFound
	case errors.Is(err, abi.ErrTooLarge):
		return "", fault.ValueTooLong
	}
	return "", fault.ValueAbsent
}

// Set leaves exactly one value (fault.HeaderMap's contract) with one host
// call: Envoy's proxy_replace_header_map_value (HeaderMap::setCopy) removes
// every value of the key and adds the new one, since Envoy 1.16; Nedry
// targets 1.33 and later.
func (m headerMap) Set(name, value string) {
	_ = abi.ReplaceHeaderMapValue(abi.MapType(m), name, value)
}

func (m headerMap) Add(name, value string) {
	_ = abi.AddHeaderMapValue(abi.MapType(m), name, value)
}

func (m headerMap) Remove(name string) {
	_ = abi.RemoveHeaderMapValue(abi.MapType(m), name)
}

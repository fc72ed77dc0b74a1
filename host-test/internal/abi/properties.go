package abi

import (
	"context"
	"strings"
	"unsafe"

	"github.com/tetratelabs/wazero/api"
)

// PropertyDefaults are the host-wide property values.
type PropertyDefaults struct {
	PluginName, RootID, VMID, NodeID string
	// Values by dotted path, e.g. "xds.cluster_name".
	Values map[string]string
}

// property answers a dotted path the way Envoy's attribute lookup does for
// the attributes this harness knows; ok false is NotFound.
func (vm *VM) property(c *Context, path string) (string, bool) {
	if c != nil && !c.IsRoot() {
		if v, ok := c.Props[path]; ok {
			return v, true
		}
		// Envoy's attribute lookup ends with the stream's filter state
		// under the wasm. prefix (only looked at once a guest set one, so
		// the common lookup allocates nothing).
		if c.FilterState != nil {
			if v, ok := c.FilterState[FilterStatePrefix+path]; ok {
				return v, true
			}
		}
		if req := c.Maps[MapRequestHeaders]; req != nil {
			switch path {
			case "request.path":
				return req.Get(":path")
			case "request.url_path":
				p, ok := req.Get(":path")
				if i := strings.IndexByte(p, '?'); i >= 0 {
					p = p[:i]
				}
				return p, ok
			case "request.method":
				return req.Get(":method")
			case "request.host":
				return req.Get(":authority")
			case "request.scheme":
				return req.Get(":scheme")
			case "request.id":
				return req.Get("x-request-id")
			}
		}
	}
	d := &vm.env.Properties
	switch path {
	case "plugin_name":
		return d.PluginName, true
	case "plugin_root_id":
		return d.RootID, true
	case "plugin_vm_id":
		return d.VMID, true
	case "node.id":
		return d.NodeID, true
	}
	v, ok := d.Values[path]
	return v, ok
}

// ProxyGetProperty is proxy_get_property(path_data, path_size, return_value_data,
// return_value_size). The path is a NUL-separated list of segments; unknown
// paths answer NotFound, as Envoy does.
// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_property
func (vm *VM) ProxyGetProperty(pp, ps, rp, rs uint32) Status {
	const call = "proxy_get_property"
	b, ok := vm.read(call, pp, ps)
	if !ok {
		return StatusInvalidMemoryAccess
	}
	// The dotted path lives in a per-VM buffer and is viewed, not copied:
	// property only looks it up, and copyOut only copies the value. Guests
	// ask for properties on the request path (xds.route_name), so this call
	// allocates nothing.
	vm.propPath = dottedPath(vm.propPath[:0], b)
	v, found := vm.property(vm.active(), unsafe.String(unsafe.SliceData(vm.propPath), len(vm.propPath)))
	if !found {
		return StatusNotFound
	}
	return vm.copyOut(call, unsafe.Slice(unsafe.StringData(v), len(v)), rp, rs)
}

// dottedPath appends the NUL-separated property path p to dst with dots
// between segments and no trailing separator, as Envoy names properties.
func dottedPath(dst, p []byte) []byte {
	for _, c := range p {
		if c == 0 {
			c = '.'
		}
		dst = append(dst, c)
	}
	for len(dst) > 0 && dst[len(dst)-1] == '.' {
		dst = dst[:len(dst)-1]
	}
	return dst
}

// FilterStatePrefix starts the filter state name of every value a guest
// sets with proxy_set_property (Envoy's CelStateKeyPrefix in
// source/extensions/common/wasm/context.cc).
const FilterStatePrefix = "wasm."

// ProxySetProperty is proxy_set_property(path_data, path_size, value_data,
// value_size): Envoy's Context::setProperty stores the value in the
// stream's filter state under "wasm." followed by the path exactly as given
// (not split at NULs, unlike proxy_get_property), where access logs read it
// as %FILTER_STATE(wasm.<path>:PLAIN)% and a later proxy_get_property of the
// path finds it. Without a stream (a root context) Envoy has no stream info
// and answers NotFound.
// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_property
func (vm *VM) ProxySetProperty(kp, ks, vp, vs uint32) Status {
	const call = "proxy_set_property"
	k, ok := vm.read(call, kp, ks)
	if !ok {
		return StatusInvalidMemoryAccess
	}
	v, ok := vm.read(call, vp, vs)
	if !ok {
		return StatusInvalidMemoryAccess
	}
	c := vm.active()
	if c == nil || c.IsRoot() {
		return StatusNotFound
	}
	if c.FilterState == nil {
		c.FilterState = map[string]string{}
	}
	c.FilterState[FilterStatePrefix+string(k)] = string(v)
	return StatusOK
}

var propertyFuncs = []hostFunc{
	{"proxy_get_property", sig(4), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_get_property").ProxyGetProperty(u32(s[0]), u32(s[1]), u32(s[2]), u32(s[3])))
	}},
	{"proxy_set_property", sig(4), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_set_property").ProxySetProperty(u32(s[0]), u32(s[1]), u32(s[2]), u32(s[3])))
	}},
}

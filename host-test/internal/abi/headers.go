package abi

import (
	"context"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero/api"
)

// HeaderMap is a header map as Envoy keeps it: lowercase keys, insertion
// order, repeated keys allowed.
type HeaderMap struct {
	Pairs [][2]string
}

// Get returns the first value of key, as Envoy's getHeaderMapValue does.
func (m *HeaderMap) Get(key string) (string, bool) {
	for _, p := range m.Pairs {
		if p[0] == key {
			return p[1], true
		}
	}
	return "", false
}

// Add adds another value. As in Envoy's header maps, pseudo headers (":"
// keys) stay in front of the others: a new one goes after the last pseudo
// header, any other key at the end.
func (m *HeaderMap) Add(key, value string) {
	if key == "" || key[0] != ':' {
		m.Pairs = append(m.Pairs, [2]string{key, value})
		return
	}
	i := 0
	for i < len(m.Pairs) && m.Pairs[i][0] != "" && m.Pairs[i][0][0] == ':' {
		i++
	}
	m.Pairs = slices.Insert(m.Pairs, i, [2]string{key, value})
}

// Replace removes every value of key and adds value, as Envoy's
// HeaderMap::setCopy has done since Envoy 1.16 (it used to overwrite the
// first value only): proxy_replace_header_map_value leaves one value, at
// the end of the map (or of its pseudo headers).
func (m *HeaderMap) Replace(key, value string) {
	m.Remove(key)
	m.Add(key, value)
}

// Remove removes every value of key.
func (m *HeaderMap) Remove(key string) {
	out := m.Pairs[:0]
	for _, p := range m.Pairs {
		if p[0] != key {
			out = append(out, p)
		}
	}
	m.Pairs = out
}

// ByteSize is Envoy's HeaderMap::byteSize: the sum of key and value lengths,
// the answer of proxy_get_header_map_size.
func (m *HeaderMap) ByteSize() uint32 {
	n := 0
	for _, p := range m.Pairs {
		n += len(p[0]) + len(p[1])
	}
	return uint32(n)
}

var mapNames = [...]string{"request headers", "request trailers", "response headers", "response trailers"}

// headerMap resolves a map for a hostcall on the active context. Envoy
// answers BadArgument for a map that does not exist at this point (root
// contexts have none; the request headers are gone in the response path; the
// gRPC and HTTP-call maps are not emulated). write reports whether writes are
// allowed: only while the stream is in (or paused in) that map's callback,
// since Envoy forwards the headers as soon as the stream continues.
func (vm *VM) headerMap(call string, t MapType, write bool) (*HeaderMap, Status) {
	if t > MapTypeMax {
		return nil, StatusBadArgument
	}
	if t == MapHTTPCallResponseHeaders || t == MapHTTPCallResponseTrailers {
		return vm.httpCallMap(t, write)
	}
	c := vm.active()
	if c == nil || c.IsRoot() || t > MapResponseTrailers {
		return nil, StatusBadArgument
	}
	m := c.Maps[t]
	if m == nil {
		return nil, StatusBadArgument
	}
	var readable, writable bool
	switch t {
	case MapRequestHeaders:
		readable = c.Phase >= PhaseRequestHeaders && c.Phase <= PhaseUpstream || c.Phase == PhaseLog
		writable = c.Phase == PhaseRequestHeaders
	case MapRequestTrailers:
		readable = c.Phase == PhaseRequestTrailers || c.Phase == PhaseLog
		writable = c.Phase == PhaseRequestTrailers
	case MapResponseHeaders:
		readable = c.Phase >= PhaseResponseHeaders && c.Phase <= PhaseLog
		writable = c.Phase == PhaseResponseHeaders
	case MapResponseTrailers:
		readable = c.Phase == PhaseResponseTrailers || c.Phase == PhaseLog
		writable = c.Phase == PhaseResponseTrailers
	}
	if !readable {
		return nil, StatusBadArgument
	}
	if write && !writable {
		vm.misuse(call, "can't modify %s after they went on (the stream continued past them)", mapNames[t])
		return nil, StatusBadArgument
	}
	return m, StatusOK
}

// validHeaderBytes rejects what Envoy's HeaderString refuses: NUL, CR, LF.
func validHeaderBytes(s string) bool {
	return !strings.ContainsAny(s, "\x00\r\n")
}

func (vm *VM) headerKV(call string, kp, ks, vp, vs uint32, withValue bool) (key, value string, st Status) {
	k, ok := vm.read(call, kp, ks)
	if !ok {
		return "", "", StatusInvalidMemoryAccess
	}
	key = strings.ToLower(string(k)) // Envoy's LowerCaseString
	if withValue {
		v, ok := vm.read(call, vp, vs)
		if !ok {
			return "", "", StatusInvalidMemoryAccess
		}
		value = string(v)
	}
	if key == "" || !validHeaderBytes(key) || !validHeaderBytes(value) {
		vm.misuse(call, "invalid header bytes (empty key, NUL, CR or LF) in %q: %q", key, value)
		return "", "", StatusBadArgument
	}
	return key, value, StatusOK
}

// ProxyGetHeaderMapValue is proxy_get_header_map_value(map_type, key_data,
// key_size, return_value_data, return_value_size): the first value of the key,
// NotFound when absent.
// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_header_map_value
func (vm *VM) ProxyGetHeaderMapValue(t MapType, kp, ks, rp, rs uint32) Status {
	const call = "proxy_get_header_map_value"
	m, st := vm.headerMap(call, t, false)
	if st != StatusOK {
		return st
	}
	k, ok := vm.read(call, kp, ks)
	if !ok {
		return StatusInvalidMemoryAccess
	}
	v, found := m.Get(strings.ToLower(string(k)))
	if !found {
		return StatusNotFound
	}
	return vm.copyOut(call, []byte(v), rp, rs)
}

// ProxyAddHeaderMapValue is proxy_add_header_map_value: appends a value.
func (vm *VM) ProxyAddHeaderMapValue(t MapType, kp, ks, vp, vs uint32) Status {
	const call = "proxy_add_header_map_value"
	m, st := vm.headerMap(call, t, true)
	if st != StatusOK {
		return st
	}
	k, v, st := vm.headerKV(call, kp, ks, vp, vs, true)
	if st != StatusOK {
		return st
	}
	m.Add(k, v)
	return StatusOK
}

// ProxyReplaceHeaderMapValue is proxy_replace_header_map_value: every value
// of the key replaced by one (see HeaderMap.Replace).
func (vm *VM) ProxyReplaceHeaderMapValue(t MapType, kp, ks, vp, vs uint32) Status {
	const call = "proxy_replace_header_map_value"
	m, st := vm.headerMap(call, t, true)
	if st != StatusOK {
		return st
	}
	k, v, st := vm.headerKV(call, kp, ks, vp, vs, true)
	if st != StatusOK {
		return st
	}
	m.Replace(k, v)
	return StatusOK
}

// ProxyRemoveHeaderMapValue is proxy_remove_header_map_value: removes every
// value of the key (Ok when absent).
func (vm *VM) ProxyRemoveHeaderMapValue(t MapType, kp, ks uint32) Status {
	const call = "proxy_remove_header_map_value"
	m, st := vm.headerMap(call, t, true)
	if st != StatusOK {
		return st
	}
	k, _, st := vm.headerKV(call, kp, ks, 0, 0, false)
	if st != StatusOK {
		return st
	}
	m.Remove(k)
	return StatusOK
}

// ProxyGetHeaderMapPairs is proxy_get_header_map_pairs: the whole map in the
// pairs format; an empty map is pointer 0, size 0.
func (vm *VM) ProxyGetHeaderMapPairs(t MapType, rp, rs uint32) Status {
	const call = "proxy_get_header_map_pairs"
	m, st := vm.headerMap(call, t, false)
	if st != StatusOK {
		return st
	}
	if len(m.Pairs) == 0 {
		return vm.copyOut(call, nil, rp, rs)
	}
	// Encoded straight into the guest's block: no host buffer to fill and
	// copy on every request.
	size := pairsSize(m.Pairs)
	ptr, buf, ok := vm.alloc(call, uint32(size))
	if !ok {
		return StatusInvalidMemoryAccess
	}
	putPairs(buf, m.Pairs)
	return vm.writePtrSize(call, rp, rs, ptr, uint32(size))
}

// ProxySetHeaderMapPairs is proxy_set_header_map_pairs: replaces the whole
// map. cpp-host turns a malformed buffer into an empty map; strict mode
// fails instead.
func (vm *VM) ProxySetHeaderMapPairs(t MapType, p, s uint32) Status {
	const call = "proxy_set_header_map_pairs"
	m, st := vm.headerMap(call, t, true)
	if st != StatusOK {
		return st
	}
	b, ok := vm.read(call, p, s)
	if !ok {
		return StatusInvalidMemoryAccess
	}
	pairs, ok := decodePairs(b, nil, nil)
	if !ok {
		vm.misuse(call, "malformed pairs buffer of %d bytes (Envoy would clear the map)", len(b))
	}
	for i := range pairs {
		pairs[i][0] = strings.ToLower(pairs[i][0])
		if pairs[i][0] == "" || !validHeaderBytes(pairs[i][0]) || !validHeaderBytes(pairs[i][1]) {
			vm.misuse(call, "invalid header bytes (empty key, NUL, CR or LF) in %q: %q", pairs[i][0], pairs[i][1])
			return StatusBadArgument
		}
	}
	m.Pairs = pairs
	return StatusOK
}

// ProxyGetHeaderMapSize is proxy_get_header_map_size: Envoy answers the
// map's byte size (keys plus values), not the number of entries.
func (vm *VM) ProxyGetHeaderMapSize(t MapType, rp uint32) Status {
	const call = "proxy_get_header_map_size"
	m, st := vm.headerMap(call, t, false)
	if st != StatusOK {
		return st
	}
	if !vm.writeU32(call, rp, m.ByteSize()) {
		return StatusInvalidMemoryAccess
	}
	return StatusOK
}

var headerFuncs = []hostFunc{
	{"proxy_get_header_map_value", sig(5), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_get_header_map_value").ProxyGetHeaderMapValue(MapType(s[0]), u32(s[1]), u32(s[2]), u32(s[3]), u32(s[4])))
	}},
	{"proxy_add_header_map_value", sig(5), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_add_header_map_value").ProxyAddHeaderMapValue(MapType(s[0]), u32(s[1]), u32(s[2]), u32(s[3]), u32(s[4])))
	}},
	{"proxy_replace_header_map_value", sig(5), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_replace_header_map_value").ProxyReplaceHeaderMapValue(MapType(s[0]), u32(s[1]), u32(s[2]), u32(s[3]), u32(s[4])))
	}},
	{"proxy_remove_header_map_value", sig(3), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_remove_header_map_value").ProxyRemoveHeaderMapValue(MapType(s[0]), u32(s[1]), u32(s[2])))
	}},
	{"proxy_get_header_map_pairs", sig(3), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_get_header_map_pairs").ProxyGetHeaderMapPairs(MapType(s[0]), u32(s[1]), u32(s[2])))
	}},
	{"proxy_set_header_map_pairs", sig(3), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_set_header_map_pairs").ProxySetHeaderMapPairs(MapType(s[0]), u32(s[1]), u32(s[2])))
	}},
	{"proxy_get_header_map_size", sig(2), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_get_header_map_size").ProxyGetHeaderMapSize(MapType(s[0]), u32(s[1])))
	}},
}

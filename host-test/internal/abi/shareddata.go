package abi

import (
	"context"
	"sync"

	"github.com/tetratelabs/wazero/api"
)

// SharedData is the host-wide key-value store behind proxy_get_shared_data
// and proxy_set_shared_data, as cpp-host's src/shared_data.cc keeps it: one
// map per vm_id, so every VM (worker) with the same vm_id sees the same
// data, and a configuration push (which keeps the VMs) keeps it. Each write
// gets the next value of one host-wide compare-and-swap counter, starting at
// 1 and skipping 0 on wrap-around. It is safe for concurrent use.
type SharedData struct {
	mu   sync.Mutex
	cas  uint32
	data map[string]map[string]sharedEntry
}

type sharedEntry struct {
	value string
	cas   uint32
}

// NewSharedData returns an empty store.
func NewSharedData() *SharedData {
	return &SharedData{cas: 1, data: map[string]map[string]sharedEntry{}}
}

func (d *SharedData) nextCas() uint32 {
	c := d.cas
	d.cas++
	if d.cas == 0 { // 0 means "no CAS" to set: never hand it out
		d.cas++
	}
	return c
}

// Get returns the value and CAS of key for vmID; ok false is NotFound.
func (d *SharedData) Get(vmID, key string) (value string, cas uint32, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.data[vmID][key]
	return e.value, e.cas, ok
}

// Set stores value under key for vmID. A non-zero cas must equal the
// entry's current one, else CasMismatch; cas 0 writes unconditionally, and
// a missing key is created whatever cas says (as cpp-host does).
func (d *SharedData) Set(vmID, key, value string, cas uint32) Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := d.data[vmID]
	if m == nil {
		m = map[string]sharedEntry{}
		d.data[vmID] = m
	}
	if e, ok := m[key]; ok && cas != 0 && cas != e.cas {
		return StatusCasMismatch
	}
	m[key] = sharedEntry{value: value, cas: d.nextCas()}
	return StatusOK
}

// ProxyGetSharedData is proxy_get_shared_data(key_data, key_size,
// return_value_data, return_value_size, return_cas): the value is copied
// into memory the guest allocates (proxy_on_memory_allocate), the CAS
// written as a u32. A missing key answers NotFound and writes nothing.
// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_shared_data
func (vm *VM) ProxyGetSharedData(kp, ks, vpp, vsp, casp uint32) Status {
	const call = "proxy_get_shared_data"
	k, ok := vm.read(call, kp, ks)
	if !ok {
		return StatusInvalidMemoryAccess
	}
	v, cas, found := vm.env.SharedData.Get(vm.env.Properties.VMID, string(k))
	if !found {
		return StatusNotFound
	}
	if st := vm.copyOut(call, []byte(v), vpp, vsp); st != StatusOK {
		return st
	}
	if !vm.writeU32(call, casp, cas) {
		return StatusInvalidMemoryAccess
	}
	return StatusOK
}

// ProxySetSharedData is proxy_set_shared_data(key_data, key_size,
// value_data, value_size, cas); see SharedData.Set.
// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_shared_data
func (vm *VM) ProxySetSharedData(kp, ks, vp, vs, cas uint32) Status {
	const call = "proxy_set_shared_data"
	k, ok := vm.read(call, kp, ks)
	if !ok {
		return StatusInvalidMemoryAccess
	}
	v, ok := vm.read(call, vp, vs)
	if !ok {
		return StatusInvalidMemoryAccess
	}
	return vm.env.SharedData.Set(vm.env.Properties.VMID, string(k), string(v), cas)
}

var sharedDataFuncs = []hostFunc{
	{"proxy_get_shared_data", sig(5), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_get_shared_data").ProxyGetSharedData(u32(s[0]), u32(s[1]), u32(s[2]), u32(s[3]), u32(s[4])))
	}},
	{"proxy_set_shared_data", sig(5), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_set_shared_data").ProxySetSharedData(u32(s[0]), u32(s[1]), u32(s[2]), u32(s[3]), u32(s[4])))
	}},
}

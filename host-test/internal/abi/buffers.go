package abi

import (
	"context"

	"github.com/tetratelabs/wazero/api"
)

// buffer resolves a buffer for the active context, or nil when it does not
// exist at this point (cpp-host's getBuffer returning nullptr answers
// NotFound). Bodies are visible in their own callback (and while paused
// there); the VM configuration in proxy_on_vm_start; the plugin
// configuration in proxy_on_configure.
func (vm *VM) buffer(t BufferType) *[]byte {
	c := vm.active()
	if c == nil {
		return nil
	}
	switch t {
	case BufferRequestBody:
		if !c.IsRoot() && c.Phase == PhaseRequestBody {
			return &c.Bodies[BufferRequestBody]
		}
	case BufferResponseBody:
		if !c.IsRoot() && c.Phase == PhaseResponseBody {
			return &c.Bodies[BufferResponseBody]
		}
	case BufferHTTPCallResponseBody:
		return vm.httpCallBody()
	case BufferVMConfiguration:
		if vm.vmStarting {
			return &vm.vmConfig
		}
	case BufferPluginConfiguration:
		if c.configuring {
			return &c.PluginConfig
		}
	}
	return nil
}

// ProxyGetBufferBytes is proxy_get_buffer_bytes(buffer_type, start, max_size,
// return_data, return_size), with cpp-host's clamping: a start past the end
// or a zero length answers Ok with pointer 0, size 0 and no allocation;
// start+length overflowing answers BadArgument.
// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_buffer_bytes
func (vm *VM) ProxyGetBufferBytes(t BufferType, start, length, rp, rs uint32) Status {
	const call = "proxy_get_buffer_bytes"
	if t > BufferTypeMax {
		return StatusBadArgument
	}
	b := vm.buffer(t)
	if b == nil {
		return StatusNotFound
	}
	if uint64(start)+uint64(length) > 0xffffffff {
		return StatusBadArgument
	}
	size := uint32(len(*b))
	if start > size {
		length = 0
	} else if start+length > size {
		length = size - start
	}
	if length == 0 {
		return vm.copyOut(call, nil, rp, rs)
	}
	return vm.copyOut(call, (*b)[start:start+length], rp, rs)
}

// ProxyGetBufferStatus is proxy_get_buffer_status: the buffer's length and
// flags (always 0 in cpp-host).
func (vm *VM) ProxyGetBufferStatus(t BufferType, lp, fp uint32) Status {
	const call = "proxy_get_buffer_status"
	if t > BufferTypeMax {
		return StatusBadArgument
	}
	b := vm.buffer(t)
	if b == nil {
		return StatusNotFound
	}
	if !vm.writeU32(call, lp, uint32(len(*b))) || !vm.writeU32(call, fp, 0) {
		return StatusInvalidMemoryAccess
	}
	return StatusOK
}

// ProxySetBufferBytes is proxy_set_buffer_bytes on a body, with Envoy's
// semantics (Buffer::copyFrom in source/extensions/common/wasm/context.cc):
// start 0 drains the first length bytes (all of them when length ≥ size;
// none when length is 0) and prepends the data, so start 0 with length 0
// prepends and start 0 with length ≥ size replaces; start ≥ size appends;
// anything else is BadArgument.
func (vm *VM) ProxySetBufferBytes(t BufferType, start, length, dp, ds uint32) Status {
	const call = "proxy_set_buffer_bytes"
	if t > BufferTypeMax {
		return StatusBadArgument
	}
	b := vm.buffer(t)
	if b == nil {
		return StatusNotFound
	}
	if t != BufferRequestBody && t != BufferResponseBody {
		vm.misuse(call, "buffer type %d is read-only", t)
		return StatusBadArgument
	}
	d, ok := vm.read(call, dp, ds)
	if !ok {
		return StatusInvalidMemoryAccess
	}
	size := uint32(len(*b))
	switch {
	case start == 0:
		keep := (*b)[min(length, size):]
		*b = append(append(make([]byte, 0, len(d)+len(keep)), d...), keep...)
	case start >= size:
		*b = append(*b, d...)
	default:
		return StatusBadArgument
	}
	return StatusOK
}

var bufferFuncs = []hostFunc{
	{"proxy_get_buffer_bytes", sig(5), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_get_buffer_bytes").ProxyGetBufferBytes(BufferType(s[0]), u32(s[1]), u32(s[2]), u32(s[3]), u32(s[4])))
	}},
	{"proxy_get_buffer_status", sig(3), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_get_buffer_status").ProxyGetBufferStatus(BufferType(s[0]), u32(s[1]), u32(s[2])))
	}},
	{"proxy_set_buffer_bytes", sig(5), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_set_buffer_bytes").ProxySetBufferBytes(BufferType(s[0]), u32(s[1]), u32(s[2]), u32(s[3]), u32(s[4])))
	}},
}

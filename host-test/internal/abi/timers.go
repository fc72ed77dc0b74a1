package abi

import (
	"context"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// ProxySetTickPeriodMilliseconds is proxy_set_tick_period_milliseconds: the
// tick belongs to the root of the active context (cpp-host's
// ContextBase::setTimerPeriod uses root_context()->id()); 0 stops it. The
// first tick fires one period from now.
// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_tick_period_milliseconds
func (vm *VM) ProxySetTickPeriodMilliseconds(ms uint32) Status {
	c := vm.active()
	if c == nil {
		return StatusBadArgument
	}
	root := c.rootOf()
	root.TickPeriod = time.Duration(ms) * time.Millisecond
	if ms != 0 {
		root.NextTick = vm.env.Now().Add(root.TickPeriod)
		if vm.env.TickSet != nil {
			vm.env.TickSet()
		}
	}
	return StatusOK
}

// ProxyGetCurrentTimeNanoseconds is proxy_get_current_time_nanoseconds: the
// host clock (virtual unless the host runs in real time).
func (vm *VM) ProxyGetCurrentTimeNanoseconds(rp uint32) Status {
	if !vm.writeU64("proxy_get_current_time_nanoseconds", rp, uint64(vm.env.Now().UnixNano())) {
		return StatusInvalidMemoryAccess
	}
	return StatusOK
}

var timerFuncs = []hostFunc{
	{"proxy_set_tick_period_milliseconds", sig(1), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_set_tick_period_milliseconds").ProxySetTickPeriodMilliseconds(u32(s[0])))
	}},
	{"proxy_get_current_time_nanoseconds", sig(1), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_get_current_time_nanoseconds").ProxyGetCurrentTimeNanoseconds(u32(s[0])))
	}},
}

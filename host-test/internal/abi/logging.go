package abi

import (
	"context"

	"github.com/tetratelabs/wazero/api"
)

func (vm *VM) emit(level LogLevel, msg string) {
	if level < vm.env.LogLevel || vm.env.Log == nil {
		return
	}
	var id uint32
	if c := vm.active(); c != nil {
		id = c.ID
	}
	vm.env.Log(LogEntry{Level: level, Message: msg, ContextID: id, Worker: vm.Worker, Time: vm.env.Now()})
}

// ProxyLog is proxy_log(level, message_data, message_size): a level above
// critical is BadArgument; levels below the host's are dropped.
// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_log
func (vm *VM) ProxyLog(level LogLevel, p, s uint32) Status {
	if level > LogLevelCritical {
		return StatusBadArgument
	}
	b, ok := vm.read("proxy_log", p, s)
	if !ok {
		return StatusInvalidMemoryAccess
	}
	if level >= vm.env.LogLevel {
		vm.emit(level, string(b))
	}
	return StatusOK
}

// ProxyGetLogLevel is proxy_get_log_level.
func (vm *VM) ProxyGetLogLevel(rp uint32) Status {
	if !vm.writeU32("proxy_get_log_level", rp, uint32(vm.env.LogLevel)) {
		return StatusInvalidMemoryAccess
	}
	return StatusOK
}

var loggingFuncs = []hostFunc{
	{"proxy_log", sig(3), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_log").ProxyLog(LogLevel(s[0]), u32(s[1]), u32(s[2])))
	}},
	{"proxy_get_log_level", sig(1), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_get_log_level").ProxyGetLogLevel(u32(s[0])))
	}},
}

package abi

import (
	"context"
	"encoding/binary"

	"github.com/tetratelabs/wazero/api"
)

// The WASI preview1 functions cpp-host provides (FOR_ALL_WASI_FUNCTIONS in
// include/proxy-wasm/exports.h), with its signatures and answers from
// src/exports.cc: stdout and stderr become info and error logs, clocks read
// the host clock, random_get reads the host's (possibly seeded) source,
// poll_oneoff returns at once with no events (never sleeps) and the file
// system answers ENOTSUP, EBADF or ENOSYS. Both wasi_snapshot_preview1 and
// wasi_unstable are registered, as in cpp-host.

// WASI errno values used by cpp-host.
const (
	errnoSuccess = 0
	errnoBadf    = 8
	errnoFault   = 21
	errnoInval   = 28
	errnoNoent   = 44
	errnoNosys   = 52
	errnoNotsup  = 58
	errnoNotdir  = 20
	randomGetMax = 64 * 1024
	wasiModule   = "wasi_snapshot_preview1"
	wasiUnstable = "wasi_unstable"
)

func wasiFn(name string, params []api.ValueType, f func(vm *VM, s []uint64) uint32) hostFunc {
	return hostFunc{name, params, one, func(ctx context.Context, _ api.Module, s []uint64) {
		vm := vmOf(ctx, name)
		s[0] = uint64(f(vm, s))
	}}
}

func constErrno(name string, params []api.ValueType, errno uint32) hostFunc {
	return wasiFn(name, params, func(*VM, []uint64) uint32 { return errno })
}

func p(types ...api.ValueType) []api.ValueType { return types }

// fdWrite maps stdout to info and stderr to error logs, dropping one
// trailing newline, as cpp-host's writevImpl.
func (vm *VM) fdWrite(fd, iovs, n uint32) (uint32, uint32) {
	var level LogLevel
	switch fd {
	case 1:
		level = LogLevelInfo
	case 2:
		level = LogLevelError
	default:
		return 0, errnoBadf
	}
	var msg []byte
	for i := uint32(0); i < n; i++ {
		iov, ok := vm.mem.Read(iovs+i*8, 8)
		if !ok {
			return 0, errnoFault
		}
		bp, bl := binary.LittleEndian.Uint32(iov), binary.LittleEndian.Uint32(iov[4:])
		if bl == 0 {
			continue
		}
		b, ok := vm.mem.Read(bp, bl)
		if !ok {
			return 0, errnoFault
		}
		msg = append(msg, b...)
	}
	written := uint32(len(msg))
	if written > 0 {
		if msg[len(msg)-1] == '\n' {
			msg = msg[:len(msg)-1]
		}
		vm.emit(level, string(msg))
	}
	return written, errnoSuccess
}

func (vm *VM) clockNanos(id uint32) (uint64, bool) {
	switch id {
	case 0, 1: // realtime, monotonic; both on the host clock so virtual time is consistent
		return uint64(vm.env.Now().UnixNano()), true
	}
	return 0, false
}

var wasiFuncs = []hostFunc{
	wasiFn("fd_write", p(i32, i32, i32, i32), func(vm *VM, s []uint64) uint32 {
		n, errno := vm.fdWrite(u32(s[0]), u32(s[1]), u32(s[2]))
		if errno != errnoSuccess {
			return errno
		}
		if !vm.mem.WriteUint32Le(u32(s[3]), n) {
			return errnoFault
		}
		return errnoSuccess
	}),
	wasiFn("fd_pwrite", p(i32, i32, i32, i64, i32), func(vm *VM, s []uint64) uint32 {
		n, errno := vm.fdWrite(u32(s[0]), u32(s[1]), u32(s[2]))
		if errno != errnoSuccess {
			return errno
		}
		if !vm.mem.WriteUint32Le(u32(s[4]), n) {
			return errnoFault
		}
		return errnoSuccess
	}),
	constErrno("fd_read", p(i32, i32, i32, i32), errnoNosys),
	wasiFn("fd_seek", p(i32, i64, i32, i32), func(vm *VM, s []uint64) uint32 {
		vm.emit(LogLevelError, "wasi_unstable fd_seek")
		return errnoSuccess
	}),
	wasiFn("fd_close", p(i32), func(vm *VM, s []uint64) uint32 {
		vm.emit(LogLevelError, "wasi_unstable fd_close")
		return errnoSuccess
	}),
	wasiFn("fd_fdstat_get", p(i32, i32), func(vm *VM, s []uint64) uint32 {
		fd := u32(s[0])
		if fd != 1 && fd != 2 {
			return errnoBadf
		}
		var st [24]byte
		binary.LittleEndian.PutUint64(st[8:], 64) // rights: fd_write
		vm.mem.Write(u32(s[1]), st[:])
		return errnoSuccess
	}),
	constErrno("fd_fdstat_set_flags", p(i32, i32), errnoNosys),
	stdFd("fd_fdstat_set_rights", p(i32, i64, i64)),
	wasiFn("environ_get", p(i32, i32), func(*VM, []uint64) uint32 { return errnoSuccess }),
	wasiFn("environ_sizes_get", p(i32, i32), zeroTwo),
	wasiFn("args_get", p(i32, i32), func(*VM, []uint64) uint32 { return errnoSuccess }),
	wasiFn("args_sizes_get", p(i32, i32), zeroTwo),
	wasiFn("clock_time_get", p(i32, i64, i32), func(vm *VM, s []uint64) uint32 {
		t, ok := vm.clockNanos(u32(s[0]))
		if !ok {
			return errnoNotsup
		}
		if !vm.mem.WriteUint64Le(u32(s[2]), t) {
			return errnoFault
		}
		return errnoSuccess
	}),
	wasiFn("clock_res_get", p(i32, i32), func(vm *VM, s []uint64) uint32 {
		if _, ok := vm.clockNanos(u32(s[0])); !ok {
			return errnoNotsup
		}
		if !vm.mem.WriteUint64Le(u32(s[1]), 1) {
			return errnoFault
		}
		return errnoSuccess
	}),
	constErrno("fd_advise", p(i32, i64, i64, i32), errnoSuccess),
	stdFd("fd_allocate", p(i32, i64, i64)),
	stdFd("fd_datasync", p(i32)),
	stdFd("fd_filestat_set_size", p(i32, i64)),
	stdFd("fd_filestat_set_times", p(i32, i64, i64, i32)),
	constErrno("fd_pread", p(i32, i32, i32, i64, i32), errnoNosys),
	wasiFn("fd_readdir", p(i32, i32, i32, i64, i32), func(vm *VM, s []uint64) uint32 {
		if !vm.mem.WriteUint32Le(u32(s[4]), 0) {
			return errnoFault
		}
		return errnoNotdir
	}),
	wasiFn("fd_renumber", p(i32, i32), func(vm *VM, s []uint64) uint32 {
		if !isStd(u32(s[0])) || !isStd(u32(s[1])) {
			return errnoBadf
		}
		return errnoNotsup
	}),
	stdFd("fd_sync", p(i32)),
	wasiFn("fd_tell", p(i32, i32), func(vm *VM, s []uint64) uint32 {
		if !isStd(u32(s[0])) {
			return errnoBadf
		}
		if !vm.mem.WriteUint64Le(u32(s[1]), 0) {
			return errnoFault
		}
		return errnoSuccess
	}),
	constErrno("path_create_directory", p(i32, i32, i32), errnoNotsup),
	constErrno("path_filestat_set_times", p(i32, i32, i32, i32, i64, i64, i32), errnoNotsup),
	// cpp-host declares path_link with 6 and path_symlink with 4 parameters
	// (exports.h); a module importing the WASI shapes would not link there.
	constErrno("path_link", p(i32, i32, i32, i32, i32, i32), errnoNotsup),
	wasiFn("path_readlink", p(i32, i32, i32, i32, i32, i32), func(vm *VM, s []uint64) uint32 {
		if !vm.mem.WriteUint32Le(u32(s[5]), 0) {
			return errnoFault
		}
		return errnoNotsup
	}),
	constErrno("path_remove_directory", p(i32, i32, i32), errnoNotsup),
	constErrno("path_rename", p(i32, i32, i32, i32, i32, i32), errnoNotsup),
	constErrno("path_symlink", p(i32, i32, i32, i32), errnoNotsup),
	constErrno("path_unlink_file", p(i32, i32, i32), errnoNotsup),
	wasiFn("sock_accept", p(i32, i32, i32), func(vm *VM, s []uint64) uint32 {
		if !vm.mem.WriteUint64Le(u32(s[2]), 0) {
			return errnoFault
		}
		return errnoNotsup
	}),
	wasiFn("sock_recv", p(i32, i32, i32, i32, i32, i32), func(vm *VM, s []uint64) uint32 {
		if !vm.mem.WriteUint32Le(u32(s[4]), 0) || !vm.mem.WriteUint16Le(u32(s[5]), 0) {
			return errnoFault
		}
		return errnoNotsup
	}),
	wasiFn("sock_send", p(i32, i32, i32, i32, i32), func(vm *VM, s []uint64) uint32 {
		if !vm.mem.WriteUint32Le(u32(s[4]), 0) {
			return errnoFault
		}
		return errnoNotsup
	}),
	constErrno("sock_shutdown", p(i32, i32), errnoNotsup),
	wasiFn("random_get", p(i32, i32), func(vm *VM, s []uint64) uint32 {
		n := u32(s[1])
		if n > randomGetMax {
			return errnoInval
		}
		if n == 0 {
			return errnoSuccess
		}
		b, ok := vm.mem.Read(u32(s[0]), n)
		if !ok {
			return errnoFault
		}
		vm.env.Random(b)
		return errnoSuccess
	}),
	constErrno("sched_yield", nil, errnoSuccess),
	wasiFn("poll_oneoff", p(i32, i32, i32, i32), func(vm *VM, s []uint64) uint32 {
		// cpp-host reports no events and returns at once; a guest sleep
		// never blocks the host.
		if !vm.mem.WriteUint32Le(u32(s[3]), 0) {
			return errnoFault
		}
		return errnoSuccess
	}),
	{"proc_exit", p(i32), nil, func(ctx context.Context, _ api.Module, s []uint64) {
		vm := vmOf(ctx, "proc_exit")
		// Envoy logs "wasi_unstable proc_exit" and returns into a guest that
		// expected not to come back; that VM is unusable. Trap loudly instead.
		vm.emit(LogLevelError, "wasi_unstable proc_exit")
		panic(&MisuseError{Call: "proc_exit", State: vm.active().describe(),
			Msg: "the guest exited (os.Exit?); Envoy cannot continue such a VM"})
	}},
	constErrno("path_open", p(i32, i32, i32, i32, i32, i64, i64, i32, i32), errnoNoent),
	constErrno("fd_prestat_get", p(i32, i32), errnoBadf),
	constErrno("fd_prestat_dir_name", p(i32, i32, i32), errnoNosys),
	constErrno("path_filestat_get", p(i32, i32, i32, i32, i32), errnoNotsup),
	constErrno("fd_filestat_get", p(i32, i32), errnoBadf),
}

func isStd(fd uint32) bool { return fd == 1 || fd == 2 }

func stdFd(name string, params []api.ValueType) hostFunc {
	return wasiFn(name, params, func(_ *VM, s []uint64) uint32 {
		if !isStd(u32(s[0])) {
			return errnoBadf
		}
		return errnoSuccess
	})
}

func zeroTwo(vm *VM, s []uint64) uint32 {
	if !vm.mem.WriteUint32Le(u32(s[0]), 0) || !vm.mem.WriteUint32Le(u32(s[1]), 0) {
		return errnoFault
	}
	return errnoSuccess
}

package abi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Env is what every VM of one host shares: the clock, randomness, log sink,
// stats store and the strictness setting.
type Env struct {
	// Now is the clock behind proxy_get_current_time_nanoseconds and WASI
	// clock_time_get (virtual unless the host runs in real time).
	Now func() time.Time
	// Random fills p for WASI random_get (seeded or crypto, chosen by the
	// host; it must be safe for concurrent use).
	Random func(p []byte)
	// LogLevel answers proxy_get_log_level; lower levels are dropped.
	LogLevel LogLevel
	// Log receives every kept guest log.
	Log func(LogEntry)
	// Metrics is the stats store shared by all VMs, as Envoy's.
	Metrics *Metrics
	// SharedData is the key-value store shared by all VMs of a vm_id
	// (Properties.VMID), as cpp-host's.
	SharedData *SharedData
	// Strict makes ABI misuse trap the VM with the call and the state instead
	// of answering an error status.
	Strict bool
	// Properties answers proxy_get_property paths that are not per stream.
	Properties PropertyDefaults
	// TickSet, when set, is called after a guest starts or changes a tick
	// period, so a real-time host can wake up for it instead of polling.
	TickSet func()
	// CallObserver, when set, receives the export name and wall time of every
	// outermost guest export call (see VM.call). Nil costs one nil check per
	// call: no clock is read.
	CallObserver func(export string, d time.Duration)
	// Cluster reports whether proxy_http_call may reach a cluster of that
	// name (Envoy's getThreadLocalCluster); nil knows none.
	Cluster func(name string) bool
	// HTTPCall, when set, is told of every call a guest made, while the
	// hostcall runs (the VM is locked: it must not call into it).
	HTTPCall func(vm *VM, hc *HTTPCall)
}

// Phase is where a stream context is in Envoy's filter chain. The header and
// body access windows derive from it.
type Phase int

// Stream phases, in Envoy's order.
const (
	PhaseCreated Phase = iota
	PhaseRequestHeaders
	PhaseRequestBody
	PhaseRequestTrailers
	PhaseUpstream
	PhaseResponseHeaders
	PhaseResponseBody
	PhaseResponseTrailers
	PhaseLog
	PhaseEnded
)

var phaseNames = [...]string{"created", "request_headers", "request_body", "request_trailers",
	"upstream", "response_headers", "response_body", "response_trailers", "log", "ended"}

func (p Phase) String() string { return phaseNames[p] }

// LocalReply is a proxy_send_local_response request, applied by the host
// once the callback returned (as Envoy's Context::sendLocalResponse defers).
//
// The host hands it over to the stream's result as it is, without a copy:
// nothing may write to it, its Body or its Headers slice after the hostcall
// that made it returned. Its strings may be shared with earlier replies of
// the same VM.
type LocalReply struct {
	Status     int
	Body       []byte
	Headers    [][2]string
	Details    string
	GRPCStatus int32
}

// Context is one proxy-wasm context: a root (plugin) context or a stream
// context whose Root is the root named as its parent.
type Context struct {
	ID   uint32
	Root *Context // nil for a root context

	// Root context state.
	PluginConfig []byte
	TickPeriod   time.Duration
	NextTick     time.Time
	Streams      int  // live stream contexts with this parent
	Retiring     bool // replaced by a newer root; proxy_on_done pending or answered false
	DoneCalled   bool // the guest called proxy_done while retiring

	// Stream context state, driven by the host.
	Phase  Phase
	Paused bool
	Maps   [4]*HeaderMap // by MapType
	Bodies [2][]byte     // by BufferType (request, response)
	Props  map[string]string
	// FilterState holds what proxy_set_property stored, by Envoy's filter
	// state name ("wasm." + the path as the guest gave it).
	FilterState map[string]string
	Continue    bool        // proxy_continue_* requested during the last VM call
	Close       bool        // proxy_close_stream requested
	Reply       *LocalReply // proxy_send_local_response requested
	Callbacks   []string

	callResponse *HTTPCallResponse // root: the response whose proxy_on_http_call_response runs
	configuring  bool              // PluginConfiguration buffer visible (proxy_on_configure)
	awaitingDone bool              // retiring root whose proxy_on_done answered false
}

// IsRoot reports whether c is a root (plugin) context.
func (c *Context) IsRoot() bool { return c.Root == nil }

func (c *Context) rootOf() *Context {
	if c.Root != nil {
		return c.Root
	}
	return c
}

func (c *Context) describe() string {
	if c == nil {
		return "no context (VM start-up)"
	}
	if c.IsRoot() {
		return fmt.Sprintf("root context %d", c.ID)
	}
	return fmt.Sprintf("stream context %d (root %d), phase %s, paused=%t", c.ID, c.Root.ID, c.Phase, c.Paused)
}

// TrapError is a guest trap (or a strict-mode misuse turned into one): the
// callback, the context and wazero's error, which carries the wasm stack.
type TrapError struct {
	Worker    int
	Callback  string
	ContextID uint32
	Err       error
}

func (e *TrapError) Error() string {
	return fmt.Sprintf("worker %d: trap in %s (context %d): %v", e.Worker, e.Callback, e.ContextID, e.Err)
}

func (e *TrapError) Unwrap() error { return e.Err }

// MisuseError is strict mode's report of ABI misuse: the hostcall and the
// state it was made in.
type MisuseError struct {
	Call  string
	State string
	Msg   string
}

func (e *MisuseError) Error() string {
	return fmt.Sprintf("ABI misuse: %s: %s [%s]", e.Call, e.Msg, e.State)
}

type restriction int

const (
	restrictNone restriction = iota
	restrictStart
	restrictAlloc
)

// VM is one module instance (an Envoy worker's Wasm VM) with its context
// registry. It is not safe for concurrent use: the host holds one lock per VM.
type VM struct {
	env    *Env
	Worker int
	mod    api.Module
	mem    api.Memory
	ctx    context.Context
	// propPath is proxy_get_property's reusable path buffer.
	propPath []byte
	fn       callbacks

	contexts  map[uint32]*Context
	roots     []*Context // live root contexts in creation order; kept apart so per-stream work never scans every context id
	nextID    uint32
	cur       *Context // the context of the running callback
	effective uint32   // proxy_set_effective_context, reset at every callback
	restrict  restriction
	callback  string     // running callback, for error messages
	stopped   bool       // a local reply was sent during this call (stopNextIteration)
	pending   []*Context // marked since the last TakePending: a window of a shared array (see TakePending)
	deletes   []*Context // retiring roots whose proxy_done was accepted

	vmConfig   []byte
	vmStarting bool
	metricIDs  []*metric
	hostCalls  atomic.Uint64
	httpCalls  map[uint32]*HTTPCall // in flight, by token
	httpToken  uint32
	stack      [8]uint64
	allocStk   [1]uint64

	// One-entry caches of the last local reply's details and header text
	// (see lastString).
	replyDetails, replyHeaders lastString

	// Failed is the trap that killed this VM, nil while healthy.
	Failed error
}

type callbacks struct {
	malloc                                                                api.Function
	contextCreate, vmStart, configure, tick, done, log, delete            api.Function
	reqHeaders, reqBody, reqTrailers, respHeaders, respBody, respTrailers api.Function
	httpCallResponse                                                      api.Function
}

type vmKey struct{}

// CheckModule refuses a module Envoy would refuse at load: no
// proxy_abi_version_* export, or a version this host does not speak
// (cpp-host src/wasm.cc: "Missing or unknown Proxy-Wasm ABI version").
func CheckModule(m wazero.CompiledModule) error {
	exports := m.ExportedFunctions()
	switch {
	case exports["proxy_abi_version_0_2_1"] != nil, exports["proxy_abi_version_0_2_0"] != nil:
	case exports["proxy_abi_version_0_1_0"] != nil:
		return errors.New("module exports proxy_abi_version_0_1_0: this host speaks ABI 0.2.x only")
	default:
		return errors.New("missing or unknown Proxy-Wasm ABI version: module exports no proxy_abi_version_0_2_1")
	}
	return nil
}

// NewVM instantiates the compiled module and starts it as cpp-host's
// WasmBase::startVm does: _initialize then main (or __main_void) for a WASI
// reactor, else _start, with only logging and WASI allowed.
func NewVM(ctx context.Context, rt wazero.Runtime, m wazero.CompiledModule, env *Env, worker int, vmConfig []byte) (*VM, error) {
	vm := &VM{env: env, Worker: worker, contexts: map[uint32]*Context{}, nextID: 1,
		vmConfig: append([]byte(nil), vmConfig...)}
	vm.ctx = context.WithValue(ctx, vmKey{}, vm)
	mod, err := rt.InstantiateModule(vm.ctx, m, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return nil, fmt.Errorf("instantiate module: %w", err)
	}
	vm.mod = mod
	vm.mem = mod.Memory()
	if vm.mem == nil {
		return nil, errors.New("module exports no memory")
	}
	f := mod.ExportedFunction
	vm.fn = callbacks{
		malloc:        f("proxy_on_memory_allocate"),
		contextCreate: f("proxy_on_context_create"),
		vmStart:       f("proxy_on_vm_start"),
		configure:     f("proxy_on_configure"),
		tick:          f("proxy_on_tick"),
		done:          f("proxy_on_done"),
		log:           f("proxy_on_log"),
		delete:        f("proxy_on_delete"),
		reqHeaders:    f("proxy_on_request_headers"),
		reqBody:       f("proxy_on_request_body"),
		reqTrailers:   f("proxy_on_request_trailers"),
		respHeaders:   f("proxy_on_response_headers"),
		respBody:      f("proxy_on_response_body"),
		respTrailers:  f("proxy_on_response_trailers"),

		httpCallResponse: f("proxy_on_http_call_response"),
	}
	if vm.fn.malloc == nil {
		// cpp-host falls back to an exported malloc.
		vm.fn.malloc = f("malloc")
	}
	vm.restrict = restrictStart
	defer func() { vm.restrict = restrictNone }()
	switch {
	case f("_initialize") != nil:
		if _, err := vm.call(nil, "_initialize", f("_initialize")); err != nil {
			return vm, err
		}
		if mainFn := f("main"); mainFn != nil {
			if _, err := vm.call(nil, "main", mainFn, 0, 0); err != nil {
				return vm, err
			}
		} else if mv := f("__main_void"); mv != nil {
			if _, err := vm.call(nil, "__main_void", mv); err != nil {
				return vm, err
			}
		}
	case f("_start") != nil:
		if _, err := vm.call(nil, "_start", f("_start")); err != nil {
			return vm, err
		}
	}
	return vm, nil
}

// Close releases the module instance.
func (vm *VM) Close(ctx context.Context) error { return vm.mod.Close(ctx) }

// HostCalls is the number of hostcalls the guest made so far.
func (vm *VM) HostCalls() uint64 { return vm.hostCalls.Load() }

// MemorySize is the guest's linear memory size in bytes.
func (vm *VM) MemorySize() uint32 { return vm.mem.Size() }

// CallExport calls a guest export that takes no argument and returns one
// value, outside any context. It is a test hook (for debug-only exports such
// as nedry_debug_mallocs), not part of what Envoy does.
func (vm *VM) CallExport(name string) (uint64, error) {
	fn := vm.mod.ExportedFunction(name)
	if fn == nil {
		return 0, fmt.Errorf("guest doesn't export func[%s]", name)
	}
	return vm.call(nil, name, fn)
}

// Context returns the live context with that id, or nil.
func (vm *VM) Context(id uint32) *Context { return vm.contexts[id] }

// call runs one guest export with c as the current context. The effective
// context resets at every callback, as cpp-host's thread-local
// effective_context_id_ does when Envoy enters the VM.
//
// Every export the host calls goes through here, except the allocator a
// hostcall calls into (VM.alloc), so this is where Env.CallObserver times a
// callback. It times outermost calls only (vm.callback is empty between
// callbacks): an allocation or any nested call is part of its parent's time,
// as it is part of the parent's latency in Envoy.
func (vm *VM) call(c *Context, name string, fn api.Function, args ...uint64) (uint64, error) {
	if vm.Failed != nil {
		return 0, vm.Failed
	}
	prevCur, prevEff, prevCb := vm.cur, vm.effective, vm.callback
	vm.cur, vm.effective, vm.callback = c, 0, name
	copy(vm.stack[:], args)
	stack := vm.stack[:]
	observe := vm.env.CallObserver != nil && prevCb == ""
	var start time.Time
	if observe {
		start = time.Now()
	}
	err := fn.CallWithStack(vm.ctx, stack)
	if observe {
		// Called before the state is restored; the observer is host code
		// and must not call into the VM.
		vm.env.CallObserver(name, time.Since(start))
	}
	vm.cur, vm.effective, vm.callback = prevCur, prevEff, prevCb
	if err != nil {
		var id uint32
		if c != nil {
			id = c.ID
		}
		vm.Failed = &TrapError{Worker: vm.Worker, Callback: name, ContextID: id, Err: err}
		return 0, vm.Failed
	}
	return stack[0], nil
}

// active is cpp-host's contextOrEffectiveContext: the effective context if
// one was set and still exists, else the callback's own context.
func (vm *VM) active() *Context {
	if vm.effective != 0 {
		if c := vm.contexts[vm.effective]; c != nil {
			return c
		}
	}
	return vm.cur
}

// misuse reports ABI misuse. In strict mode it panics, which wazero turns
// into a trap of the running callback carrying the call and the state; in
// lenient mode it returns so the hostcall can answer an error status.
func (vm *VM) misuse(call, format string, args ...any) {
	if !vm.env.Strict {
		return
	}
	state := vm.active().describe()
	if vm.callback != "" {
		state += ", in " + vm.callback
	}
	panic(&MisuseError{Call: call, State: state, Msg: fmt.Sprintf(format, args...)})
}

func hostName(module, name string) string {
	var b strings.Builder
	b.WriteString(module)
	b.WriteByte('.')
	b.WriteString(name)
	return b.String()
}

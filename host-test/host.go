package hosttest

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/nedry-chaos/nedry/host-test/internal/abi"
)

// sharedCache lets every Host of a test binary share compiled code, so a
// suite compiles each module once.
var sharedCache = wazero.NewCompilationCache()

// maxLogs bounds the log ring of a Host.
const maxLogs = 100_000

// Host is a simulated Envoy running one proxy-wasm module on Options.Workers
// VMs. It is safe for concurrent use: each VM has its own lock and the
// upstream is called without holding any.
type Host struct {
	opts     Options
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	env      *abi.Env
	metrics  *abi.Metrics
	workers  []*worker
	rr       atomic.Uint64

	now     atomic.Int64 // virtual clock, unix nanoseconds
	clockMu sync.Mutex   // serializes Advance
	// answers are slow upstreams' responses waiting for the virtual clock
	// (Request.UpstreamLatency).
	answersMu sync.Mutex
	answers   []pendingAnswer
	// book records proxy_http_call calls and schedules their answers.
	book callBook

	pushMu       sync.Mutex
	pluginConfig []byte

	logMu   sync.Mutex
	logs    []LogEntry
	capture *[]LogEntry // logs of a push in progress

	trapMu sync.Mutex
	traps  []error

	active, paused atomic.Int64
	retiredCalls   atomic.Uint64

	stop     chan struct{}
	tickWake chan struct{} // RealTime: a guest set a tick period
	// life ends when Close starts: it cancels the calls in flight
	// (RealTime), which bg counts with the ticker.
	life     context.Context
	endLife  context.CancelFunc
	stopOnce sync.Once
	bg       sync.WaitGroup
}

type worker struct {
	mu      sync.Mutex
	idx     int
	vm      *abi.VM
	root    *abi.Context
	streams map[uint32]*Stream
	queue   []*Stream // streams waiting for their upstream call
}

// New compiles wasm and starts Options.Workers VMs as Envoy does: the
// configuration is first validated in a throw-away VM, then each worker VM
// runs _initialize, proxy_on_vm_start and proxy_on_configure. A module
// without a proxy_abi_version_* export, a failing start or a refused
// configuration is an error (a refusal is a *PushError with the logs).
func New(ctx context.Context, wasm []byte, opts Options) (*Host, error) {
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	if opts.PluginName == "" {
		opts.PluginName = "nedry"
	}
	if opts.Start.IsZero() {
		opts.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if opts.Cache == nil {
		opts.Cache = sharedCache
	}
	h := &Host{opts: opts, metrics: abi.NewMetrics(), stop: make(chan struct{}),
		pluginConfig: append([]byte(nil), opts.PluginConfig...)}
	h.now.Store(opts.Start.UnixNano())
	h.life, h.endLife = context.WithCancel(context.Background())
	h.env = &abi.Env{
		Now:        h.clock,
		Random:     newRandom(opts.Seed),
		LogLevel:   opts.LogLevel,
		Log:        h.onLog,
		Metrics:    h.metrics,
		SharedData: abi.NewSharedData(),
		Strict:     !opts.Lenient,
		Properties: abi.PropertyDefaults{PluginName: opts.PluginName, RootID: opts.RootID,
			VMID: opts.VMID, NodeID: opts.NodeID, Values: opts.Properties},
		CallObserver: opts.CallObserver,
		Cluster:      h.clusterKnown,
		HTTPCall:     h.onHTTPCall,
	}
	if opts.RealTime {
		h.tickWake = make(chan struct{}, 1)
		h.env.TickSet = h.wakeTicks
	}
	h.rt = wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(opts.Cache))
	if err := abi.Register(ctx, h.rt); err != nil {
		h.rt.Close(ctx)
		return nil, err
	}
	compiled, err := h.rt.CompileModule(ctx, wasm)
	if err != nil {
		h.rt.Close(ctx)
		return nil, fmt.Errorf("compile module: %w", err)
	}
	if err := abi.CheckModule(compiled); err != nil {
		h.rt.Close(ctx)
		return nil, fmt.Errorf("load module: %w", err)
	}
	h.compiled = compiled
	if err := h.Check(h.pluginConfig); err != nil {
		h.rt.Close(ctx)
		return nil, err
	}
	for i := 0; i < opts.Workers; i++ {
		w := &worker{idx: i, streams: map[uint32]*Stream{}}
		if err := h.startWorker(w); err != nil {
			h.rt.Close(ctx)
			return nil, err
		}
		h.workers = append(h.workers, w)
	}
	if opts.RealTime {
		h.bg.Add(1)
		go h.tickLoop()
	}
	return h, nil
}

// startWorker gives w a fresh VM and root context with the current plugin
// configuration. The caller holds w.mu or owns w exclusively.
func (h *Host) startWorker(w *worker) error {
	if w.vm != nil {
		h.retiredCalls.Add(w.vm.HostCalls())
		w.vm.Close(context.Background())
	}
	vm, err := abi.NewVM(context.Background(), h.rt, h.compiled, h.env, w.idx, h.opts.VMConfig)
	if err != nil {
		h.recordTrap(err)
		return fmt.Errorf("start worker %d: %w", w.idx, err)
	}
	root, ok, why, err := vm.NewRoot(h.pluginConfig)
	if err != nil || !ok {
		if err != nil {
			h.recordTrap(err)
		}
		return &PushError{Stage: fmt.Sprintf("worker %d", w.idx), Reason: why, Trap: err}
	}
	w.vm, w.root = vm, root
	return nil
}

func newRandom(seed int64) func([]byte) {
	if seed == 0 {
		return func(p []byte) { _, _ = crand.Read(p) }
	}
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15))
	return func(p []byte) {
		mu.Lock()
		defer mu.Unlock()
		for i := range p {
			p[i] = byte(r.Uint32())
		}
	}
}

func (h *Host) onLog(e abi.LogEntry) {
	// The VM that logs runs under its worker's lock, so the stream table of
	// that worker can be read here.
	if e.Worker >= 0 && e.Worker < len(h.workers) {
		if s := h.workers[e.Worker].streams[e.ContextID]; s != nil {
			s.res.Logs = append(s.res.Logs, e)
		}
	}
	h.logMu.Lock()
	if len(h.logs) >= maxLogs {
		n := copy(h.logs, h.logs[maxLogs/10:])
		h.logs = h.logs[:n]
	}
	h.logs = append(h.logs, e)
	if h.capture != nil {
		*h.capture = append(*h.capture, e)
	}
	h.logMu.Unlock()
	if h.opts.Logger != nil {
		h.opts.Logger(e)
	}
}

func (h *Host) recordTrap(err error) {
	h.trapMu.Lock()
	h.traps = append(h.traps, err)
	h.trapMu.Unlock()
}

// Check validates a plugin configuration in a throw-away VM, as Envoy does
// before every load and push: _initialize, proxy_on_vm_start and
// proxy_on_configure. A refusal is a *PushError carrying the guest's logs.
func (h *Host) Check(pluginConfig []byte) error {
	var logs []LogEntry
	env := *h.env
	env.Log = func(e abi.LogEntry) {
		e.Worker = -1
		logs = append(logs, e)
		if h.opts.Logger != nil {
			h.opts.Logger(e)
		}
	}
	vm, err := abi.NewVM(context.Background(), h.rt, h.compiled, &env, -1, h.opts.VMConfig)
	if vm != nil {
		defer vm.Close(context.Background())
		defer func() { h.retiredCalls.Add(vm.HostCalls()) }()
	}
	if err != nil {
		return &PushError{Stage: "validation", Reason: "VM start-up failed", Logs: logs, Trap: err}
	}
	_, ok, why, err := vm.NewRoot(pluginConfig)
	if err != nil || !ok {
		return &PushError{Stage: "validation", Reason: why, Logs: logs, Trap: err}
	}
	return nil
}

// Reconfigure pushes a new plugin configuration as Envoy does on an ECDS
// update: validation in a throw-away VM, then a new root context (a new
// context id) in every worker. If any refuses, the push is refused with a
// *PushError and the old root keeps serving everywhere. Otherwise new streams
// go to the new root and the old one gets proxy_on_done once its streams
// drain (and is deleted when it answers true or calls proxy_done).
func (h *Host) Reconfigure(pluginConfig []byte) error {
	h.pushMu.Lock()
	defer h.pushMu.Unlock()
	if err := h.Check(pluginConfig); err != nil {
		return err
	}
	var logs []LogEntry
	h.logMu.Lock()
	h.capture = &logs
	h.logMu.Unlock()
	defer func() {
		h.logMu.Lock()
		h.capture = nil
		h.logMu.Unlock()
	}()
	fresh := make([]*abi.Context, len(h.workers))
	for i, w := range h.workers {
		w.mu.Lock()
		if w.vm.Failed != nil {
			w.mu.Unlock()
			continue // a failed VM gets the new configuration when it reloads
		}
		root, ok, why, err := w.vm.NewRoot(pluginConfig)
		// cpp-host runs what the guest asked for during proxy_on_configure
		// (continues of streams it released, say) when the call returns,
		// whatever it answered.
		h.applyPending(w)
		if err != nil || !ok {
			if err != nil {
				h.recordTrap(err)
			}
			w.vm.DropRoot(root)
			w.mu.Unlock()
			h.flush(w, nil)
			for j := 0; j < i; j++ {
				if fresh[j] != nil {
					h.workers[j].mu.Lock()
					h.workers[j].vm.DropRoot(fresh[j])
					h.workers[j].mu.Unlock()
				}
			}
			h.logMu.Lock()
			got := append([]LogEntry(nil), logs...)
			h.logMu.Unlock()
			return &PushError{Stage: fmt.Sprintf("worker %d", i), Reason: why, Logs: got, Trap: err}
		}
		fresh[i] = root
		w.mu.Unlock()
		h.flush(w, nil)
	}
	h.pluginConfig = append([]byte(nil), pluginConfig...)
	for i, w := range h.workers {
		if fresh[i] == nil {
			continue
		}
		w.mu.Lock()
		old := w.root
		w.root = fresh[i]
		w.vm.Retire(old)
		h.finishRetired(w)
		w.mu.Unlock()
	}
	return nil
}

// finishRetired lets retired roots without streams finish. Holds w.mu.
func (h *Host) finishRetired(w *worker) {
	if _, err := w.vm.FinishRetired(); err != nil {
		h.recordTrap(err)
	}
}

// Close stops the background ticker and cancels the HTTP calls in flight
// (RealTime), waits for both, and releases every VM.
func (h *Host) Close(ctx context.Context) error {
	h.book.mu.Lock()
	h.book.closed = true
	h.book.mu.Unlock()
	h.endLife()
	h.stopOnce.Do(func() { close(h.stop) })
	h.bg.Wait()
	return h.rt.Close(ctx)
}

// pick chooses the worker of a request.
func (h *Host) pick(req *Request) *worker {
	if req.WorkerSet {
		if req.Worker < 0 || req.Worker >= len(h.workers) {
			panic(fmt.Sprintf("hosttest: Request.Worker %d out of range [0, %d)", req.Worker, len(h.workers)))
		}
		return h.workers[req.Worker]
	}
	return h.workers[int(h.rr.Add(1)-1)%len(h.workers)]
}

// lockWorker picks the worker of a new stream and locks it. On the wall
// clock (RealTime) a request takes the first free worker from the
// round-robin one on, as a connection lands on whichever Envoy worker
// accepts it, so it waits for a VM only when every VM is busy; waiting
// behind a busy VM while another is idle parked goroutines for nothing
// under concurrent load. The virtual clock keeps strict round-robin, so
// tests know which worker a request gets.
func (h *Host) lockWorker(req *Request) *worker {
	if !h.opts.RealTime || req.WorkerSet || len(h.workers) == 1 {
		w := h.pick(req)
		w.mu.Lock()
		return w
	}
	n := len(h.workers)
	first := int(h.rr.Add(1)-1) % n
	for i := range n {
		if w := h.workers[(first+i)%n]; w.mu.TryLock() {
			return w
		}
	}
	w := h.workers[first]
	w.mu.Lock()
	return w
}

// Do runs one exchange to its end. In virtual mode it advances the clock
// tick by tick while the stream is paused (at most one hour of virtual time;
// a stream still open then, or with no tick left to resume it, is reset with
// ResetBy "timeout"). In RealTime mode it waits.
func (h *Host) Do(req Request) Result {
	s := h.Start(req)
	if h.opts.RealTime {
		r, _ := s.Wait(context.Background())
		return r
	}
	deadline := h.clock().Add(time.Hour)
	for !s.Done() {
		_, root, at := h.nextTick(deadline)
		if i, due := h.nextAnswer(deadline); i >= 0 && (root == nil || due.Before(at)) {
			root, at = nil, due
		}
		if i, due := h.nextCall(deadline); i >= 0 && (root == nil && at.IsZero() || due.Before(at)) {
			root, at = nil, due
		}
		if at.IsZero() {
			break
		}
		if d := at.Sub(h.clock()); d > 0 {
			h.Advance(d)
		} else {
			h.Advance(0)
		}
	}
	if !s.Done() {
		s.reset("timeout")
	}
	return s.Result()
}

var errUpstream = errors.New("upstream failed")

func (h *Host) upstreamFor(req *Request) func(context.Context, *UpstreamRequest) (*Response, error) {
	switch {
	case req.Upstream != nil:
		return req.Upstream
	case req.Response != nil:
		r := req.Response
		return func(context.Context, *UpstreamRequest) (*Response, error) { return r, nil }
	case h.opts.Upstream != nil:
		return h.opts.Upstream
	}
	return func(context.Context, *UpstreamRequest) (*Response, error) {
		return &Response{Status: 200, Headers: [][2]string{{"content-type", "text/plain"}}, Body: []byte("ok")}, nil
	}
}

func isGRPC(headers [][2]string) bool {
	ct, _ := lookup(headers, "content-type")
	return strings.HasPrefix(ct, "application/grpc")
}

// SetLogLevel changes the level proxy_get_log_level answers and below which
// proxy_log drops messages, as Envoy's admin /logging endpoint does at run
// time. Call it between requests, never while the host is working on one.
func (h *Host) SetLogLevel(level LogLevel) { h.env.LogLevel = level }

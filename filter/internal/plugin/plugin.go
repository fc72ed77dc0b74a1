// Package plugin is Nedry's lifecycle glue: the proxy-wasm root and stream
// contexts that read the configuration, define metrics, decide per request
// with the pure packages (config, match, fault) and carry the decision out
// with host calls (local replies, pauses, header edits, resets).
//
// It runs in the guest and is the only package that talks to both the ABI
// and the decisions. It is thin on purpose and tested through the compiled
// .wasm in host-test. Per-request work allocates as little as possible:
// names, metric ids, tags and reply headers are computed at configure time.
package plugin

import (
	"github.com/nedry-chaos/nedry/filter/internal/abi"
	"github.com/nedry-chaos/nedry/filter/internal/fault"
)

// Plugin is the state one VM shares between its root contexts: Envoy keeps
// the old and the new root alive in the same VM during a config push, and
// max_active_faults and the VM-wide metrics are per VM, not per root.
type Plugin struct {
	// active is the number of streams a delay holds in this VM, and
	// gaugeDelta its change not yet sent to nedry.active_faults.
	active     int
	gaugeDelta int64
	// logBuf is reused for fault log lines and garbleBuf for garbled
	// header values; callbacks never overlap.
	logBuf, garbleBuf []byte
	// roots are the live root contexts, whose delay queues the kill switch
	// empties, and stops counts the kill-switch pushes this VM accepted
	// (streams note it at their start, see stream.stopped).
	roots []*root
	stops uint32
	// free holds deleted stream contexts for reuse, so a request does not
	// leave its context behind as garbage (fewer GC pauses in callbacks).
	free []*stream
	// Duplicated requests (duplicate.go): jobs alive and the bytes they
	// hold, calls in flight, and finished jobs kept for reuse.
	dupJobs, dupBytes, dupCalls int
	dupFree                     []*dupJob

	// logLevel is the host's log level as last asked, and levelAge counts
	// the streams created since (see debugEnabled).
	logLevel abi.LogLevel
	levelAge int

	// VM-wide metric ids; defined once, from the first configure (Envoy
	// forbids host calls other than proxy_log during _initialize).
	globalsDefined bool
	configRejected uint32
	errorsID       uint32
	activeFaults   uint32
	opsSkipped     uint32
	// accepted counts the configurations this VM accepted: every worker
	// sees the same pushes in the same order (see generation).
	accepted uint32
	// latest is the configuration accepted last, by any root: only its
	// schedule sets the schedule gauges.
	latest *loaded
	// nedry.expired, defined by the first configuration that expires.
	expiredDefined bool
	expiredID      uint32
}

// New returns the VM's plugin state. It makes no host calls, so it may run
// from an init function.
func New() *Plugin { return &Plugin{levelAge: levelMaxAge} }

// NewRoot creates the root context for contextID; pass it to
// abi.SetRootFactory.
func (p *Plugin) NewRoot(contextID uint32) abi.RootContext {
	r := &root{id: contextID, plugin: p}
	r.resumeFn = r.resume
	p.roots = append(p.roots, r)
	return r
}

// dropRoot forgets a deleted root context.
func (p *Plugin) dropRoot(r *root) {
	for i, x := range p.roots {
		if x == r {
			p.roots = append(p.roots[:i], p.roots[i+1:]...)
			return
		}
	}
}

// CountPanic counts a recovered panic in nedry.errors; pass it to
// abi.SetPanicHook.
func (p *Plugin) CountPanic(uint32) {
	if p.globalsDefined {
		_ = abi.IncrementMetric(p.errorsID, 1)
	}
}

// defineGlobals defines the VM-wide metrics once. Envoy answers the same
// metric for the same name, so every worker VM adds to the same counters.
func (p *Plugin) defineGlobals() error {
	if p.globalsDefined {
		return nil
	}
	var err error
	if p.configRejected, err = abi.DefineMetric(abi.MetricTypeCounter, fault.MetricConfigRejected); err != nil {
		return err
	}
	if p.errorsID, err = abi.DefineMetric(abi.MetricTypeCounter, fault.MetricErrors); err != nil {
		return err
	}
	if p.activeFaults, err = abi.DefineMetric(abi.MetricTypeGauge, fault.MetricActiveFaults); err != nil {
		return err
	}
	if p.opsSkipped, err = abi.DefineMetric(abi.MetricTypeCounter, fault.MetricOpsSkipped); err != nil {
		return err
	}
	p.globalsDefined = true
	return nil
}

// levelMaxAge is how many streams a cached log level serves before the next
// fault log asks the host again.
const levelMaxAge = 128

// debugEnabled reports whether the host writes debug messages, so fault log
// lines are neither formatted nor sent when it does not. Asking costs a host
// call, and Envoy's level rarely changes (it can, through its admin
// endpoint), so the answer is kept: a change shows in fault logs from the
// next configuration, or after at most levelMaxAge streams, whichever comes
// first. A host that cannot answer gets every line.
func (p *Plugin) debugEnabled() bool {
	if p.levelAge >= levelMaxAge {
		p.levelAge = 0
		level, err := abi.GetLogLevel()
		if err != nil {
			level = abi.LogLevelTrace
		}
		p.logLevel = level
	}
	return p.logLevel <= abi.LogLevelDebug
}

// forgetLogLevel makes the next fault log ask the host for its level.
func (p *Plugin) forgetLogLevel() { p.levelAge = levelMaxAge }

// maxFree caps the recycled stream contexts kept after a burst.
const maxFree = 256

func (p *Plugin) newStream() *stream {
	p.levelAge++
	if n := len(p.free); n > 0 {
		s := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		return s
	}
	return new(stream)
}

// recycle takes back a stream context the host deleted. Its fields are
// cleared so it keeps no configuration or header buffer alive.
func (p *Plugin) recycle(s *stream) {
	s.reset()
	if len(p.free) < maxFree {
		p.free = append(p.free, s)
	}
}

// hold and release track streams held by a delay. The gauge only moves by
// proxy_increment_metric (never proxy_record_metric), so the values of all
// worker VMs add up to the proxy-wide number. The change is sent by
// flushGauge at the next tick, which a paused stream always has coming,
// rather than from the request path: one host call fewer per pause and per
// resume, for a gauge at most one tick period late.
func (p *Plugin) hold() {
	p.active++
	p.gaugeDelta++
}

func (p *Plugin) release() {
	p.active--
	p.gaugeDelta--
}

// flushGauge sends the held streams' change since the last flush.
func (p *Plugin) flushGauge() {
	if p.gaugeDelta != 0 {
		_ = abi.IncrementMetric(p.activeFaults, p.gaugeDelta)
		p.gaugeDelta = 0
	}
}

package plugin

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"strings"
	"time"

	"github.com/nedry-chaos/nedry/filter/internal/abi"
	"github.com/nedry-chaos/nedry/filter/internal/config"
	"github.com/nedry-chaos/nedry/filter/internal/fault"
)

// root is a plugin (root) context: it owns one configuration, its metric
// ids, its random source, and the delay queue with its tick.
type root struct {
	id     uint32
	plugin *Plugin

	cur *loaded // nil until a configuration was accepted

	// The streams a delay holds. Each stream keeps its own place in the
	// heap, so holding and dropping one needs no map.
	queue    fault.DelayQueue[*stream]
	resumeFn func(s *stream) // r.resume, bound once so ticks do not allocate
	// tickPeriod is the tick as last set, 0 when stopped.
	tickPeriod time.Duration
	// dup holds the copies of duplicated requests (duplicate_root.go).
	dup dupState
}

func (r *root) OnVMStart(int) bool { return true }

// OnConfigure parses and installs the plugin configuration. An invalid one
// is logged (every problem, at error level), counted and refused, so Envoy
// keeps serving the previous one.
func (r *root) OnConfigure(size int) bool {
	// Parsing and validating leave garbage (the JSON, error text, the
	// configuration the previous push replaced), and nothing else does: the
	// request path allocates nothing. Collecting it here, in a callback that
	// is rare and slow anyway, keeps the heap from growing towards the
	// collector's goal push after push, and wasm linear memory never
	// shrinks once grown: memory stays as large as after the first
	// configuration instead of creeping up for hundreds of pushes. It runs
	// before parsing rather than after: the last push's garbage is as dead
	// now, and the configuration before it has usually been retired by
	// then, so the collector marks one configuration instead of two (1,000
	// rules: 4 ms instead of 6 to 8, BenchmarkConfigure/rules_1000), and
	// the new parse reuses the memory freed instead of adding to it.
	runtime.GC()
	// A push is also when an operator may have changed Envoy's log level.
	r.plugin.forgetLogLevel()
	if err := r.plugin.defineGlobals(); err != nil {
		_ = abi.Log(abi.LogLevelError, "nedry: define metrics: "+err.Error())
		return false
	}
	var data []byte
	if size > 0 {
		var err error
		if data, err = abi.GetBufferBytes(abi.BufferTypePluginConfiguration, 0, size); err != nil {
			return r.reject("nedry: read plugin configuration: " + err.Error())
		}
	}
	cfg, err := config.Parse(data)
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			// Error() caps the list at 50 lines and says how many more.
			lines := strings.Split(ce.Error(), "\n")
			for _, l := range lines[:len(lines)-1] {
				_ = abi.Log(abi.LogLevelError, "nedry: invalid configuration: "+l)
			}
			return r.reject("nedry: invalid configuration: " + lines[len(lines)-1])
		}
		return r.reject("nedry: invalid configuration: " + err.Error())
	}

	stats := make([]ruleStats, len(cfg.Rules))
	for i, rule := range cfg.Rules {
		if stats[i], err = newRuleStats(rule); err != nil {
			return r.reject("nedry: define metrics of rule " + rule.Name + ": " + err.Error())
		}
	}
	var hc *ruleStats
	if cfg.HeaderControl.Enabled {
		if hc, err = newHeaderControlStats(); err != nil {
			return r.reject("nedry: define header control metrics: " + err.Error())
		}
	}
	seed := cfg.Seed
	if seed == 0 {
		// The runtime seeds this source from WASI random_get at start-up.
		seed = rand.Uint64()
	}
	sched, err := newSchedule(cfg, stats)
	if err != nil {
		return r.reject("nedry: define schedule metrics: " + err.Error())
	}
	r.cur = &loaded{cfg: cfg, rnd: fault.NewRand(seed), stats: stats, hc: hc, sched: sched}
	// Room for the streams this configuration may hold, up to a bound that
	// keeps a generous limit from reserving memory it never uses: pausing a
	// stream should not grow the heap on the request path.
	r.queue.Grow(min(cfg.MaxActiveFaults, maxQueueReserve) - r.queue.Len())

	if !cfg.Enabled {
		r.plugin.stopFaults(r.id)
	}
	if err := r.startGuards(r.cur, data); err != nil {
		return r.reject("nedry: define guardrail metrics: " + err.Error())
	}
	r.plugin.latest = r.cur
	if r.plugin.expiredDefined {
		r.plugin.recordExpired(0) // a push starts unexpired until shown otherwise
	}
	r.startSchedule(r.cur)

	if cfg.Empty() {
		_ = abi.Log(abi.LogLevelWarn, "nedry: configuration accepted with no rules: "+cfg.Summary())
	} else {
		_ = abi.Log(abi.LogLevelInfo, "nedry: configuration accepted: "+cfg.Summary())
	}
	return true
}

func (r *root) reject(msg string) bool {
	_ = abi.Log(abi.LogLevelError, msg)
	_ = abi.IncrementMetric(r.plugin.configRejected, 1)
	return false
}

// maxQueueReserve bounds the delay queue room reserved at configure time
// (24 bytes a stream).
const maxQueueReserve = 1024

// loaded is one accepted configuration with everything prepared for it.
// A stream keeps the one current at its start, so a root reconfigured in
// place never mixes one configuration's rules with another's metric ids.
type loaded struct {
	cfg   *config.Config
	rnd   *fault.Rand
	stats []ruleStats // by Rule.Index
	hc    *ruleStats  // header control, when enabled
	sched schedule
	// guarded holds the indexes of the rules with a halt; guardAt is the
	// monotonic time of their next merge.
	guarded []int
	guardAt int64
}

// NewStream creates the context of a stream of this root.
func (r *root) NewStream(id uint32) abi.StreamContext {
	s := r.plugin.newStream()
	s.id, s.root, s.l, s.stopsAt = id, r, r.cur, r.plugin.stops
	if r.cur != nil {
		s.cfg = r.cur.cfg
	}
	return s
}

// OnTick resumes the streams whose delay is over. A tick that finds the
// queue already empty stops the tick; see afterDequeue.
func (r *root) OnTick() {
	idle := r.queue.Len() == 0 && len(r.dup.jobs) == 0
	t := now()
	// Copies first: resuming a stream sets the effective context to it.
	r.sendDue(t)
	r.queue.PopDue(t, r.resumeFn)
	r.plugin.flushGauge()
	r.tickSchedule(t)
	if l := r.cur; l != nil && r.plugin.latest == l {
		r.tickGuards(l, t)
	}
	r.afterDequeue(idle)
	r.maybeDone()
}

// resume is called by PopDue for a due stream, already out of the queue.
func (r *root) resume(s *stream) {
	r.plugin.release()
	// Envoy resets the effective context at every callback: without this,
	// the calls below would act on the root and resume nothing.
	if err := abi.SetEffectiveContext(s.id); err != nil {
		return
	}
	defer r.recoverStream(s)
	s.resume()
}

// recoverStream contains a panic of one resumed stream, so the others due in
// the same tick still resume, and lets that stream go on untouched.
func (r *root) recoverStream(s *stream) {
	if v := recover(); v != nil {
		abi.Recovered(s.id, "proxy_on_tick", v)
		s.failOpen()
	}
}

// enqueue holds s until due (nanoseconds), starting the tick if needed.
func (r *root) enqueue(s *stream, due int64, tick time.Duration) {
	r.queue.Push(s, due)
	r.plugin.hold()
	// From a stream callback Envoy sets the tick of the stream's root.
	r.ensureTick(tick)
}

// ensureTick makes the tick run at period or faster.
func (r *root) ensureTick(period time.Duration) {
	if r.tickPeriod == 0 || r.tickPeriod > period {
		if err := abi.SetTickPeriod(period); err == nil {
			r.tickPeriod = period
		}
	}
}

// dequeue drops s from the queue: its stream ended while paused, and a reset
// stream must never be resumed.
func (r *root) dequeue(s *stream) {
	if !r.queue.Remove(s) {
		return
	}
	r.plugin.release()
	r.afterDequeue(false)
}

// afterDequeue stops the tick when idleTick says a whole tick period went by
// with nothing queued. The tick is not stopped the moment the queue empties
// (last stream resumed or reset while paused): under steady delayed traffic
// that would cost a proxy_set_tick_period_milliseconds at every pause and
// another when it ends. Keeping it costs one idle tick (a VM call) once the
// traffic stops.
func (r *root) afterDequeue(idleTick bool) {
	if r.queue.Len() == 0 && len(r.dup.jobs) == 0 && r.tickPeriod != 0 && idleTick {
		// A configuration with timed parts keeps a slow tick for its
		// schedule (see schedule.go); others stop it.
		var slow time.Duration
		if r.cur != nil && r.cur.sched.on {
			slow = idleTimedTick
		}
		if slow != r.tickPeriod {
			_ = abi.SetTickPeriod(slow)
			r.tickPeriod = slow
		}
	}
}

// OnDone answers true unless copies of duplicated requests are still to be
// sent or answered (see duplicate_root.go): then false, and the root calls
// proxy_done once they are. Envoy calls proxy_on_done on a root only once
// no stream of it is alive, so its delay queue is empty by then. cpp-host
// calls it from WasmBase::startShutdown, with a plugin key when the last
// PluginHandle of that configuration goes (and every stream context holds
// one), or without one when the last WasmHandle of the VM goes (and every
// PluginHandle holds one). The gauge change not yet sent is sent now,
// since a root that is done ticks no more.
func (r *root) OnDone() bool {
	r.plugin.flushGauge()
	if r.busy() {
		r.dup.draining = true
		return false
	}
	return true
}

// OnDelete forgets the root: the kill switch no longer looks at its queue.
func (r *root) OnDelete() { r.plugin.dropRoot(r) }

package plugin

import (
	"time"

	"github.com/nedry-chaos/nedry/filter/internal/abi"
	"github.com/nedry-chaos/nedry/filter/internal/config"
	"github.com/nedry-chaos/nedry/filter/internal/fault"
)

// The time-dependent parts of a configuration (expires, active windows,
// ramps) are evaluated by refresh, at most once per refreshEvery per VM, and
// the answers cached: whether the configuration has expired, whether each
// windowed rule is inside its window, each ramped fault's rate. The request
// path only reads those answers.
//
// The refresh runs from proxy_on_tick, which reads the monotonic clock for
// the delay queue anyway; a configuration with timed parts keeps a tick of
// at most refreshEvery going (idleTimedTick), so that is one VM call and one
// proxy_get_current_time_nanoseconds a second per worker when idle. Between
// refreshes the cached answer holds until the next change the refresh
// computed (a window boundary, a ramp step, the expiry). When that change
// falls within armWindow, the schedule is armed: requests of timed rules
// then read the monotonic clock (WASI clock_time_get, no proxy call) and
// compare, so the change takes effect at its exact instant rather than at
// the next tick. Traffic that matches no timed rule never reads a clock.
const (
	refreshEvery  = time.Second
	idleTimedTick = time.Second
	armWindow     = 2 * time.Second
)

// schedule is a loaded configuration's cached view of the wall clock.
type schedule struct {
	on bool // the configuration has expires, a window or a ramp
	// start is the wall time (ns) the configuration was accepted: the origin
	// of ramps without a start of their own.
	start int64
	// refreshAt is the monotonic time of the next refresh due from the tick;
	// changeAt, when not zero, the monotonic time of the next change, which
	// requests of timed rules watch for.
	refreshAt, changeAt int64
	expired             bool
	timed               []int // indexes of the rules with a window or a ramp
}

// timedStats is the part of ruleStats the schedule maintains.
type timedStats struct {
	// timed says the request path must look at the schedule for this rule:
	// it has a window or a ramp, or the configuration expires.
	timed    bool
	ramped   bool
	inactive bool      // outside its window at the last refresh
	rates    [4]uint32 // current rates in draw order, when ramped
	activeID uint32    // gauge nedry.rule.<name>.active, when windowed
	rateIDs  [4]uint32 // gauges nedry.rule.<name>.<fault>_rate_ppm, when ramped
	sent     bool      // the gauges were set once (at the first refresh)
}

// faultGaugeNames are the per-fault rate gauges, in draw order.
var faultGaugeNames = [4]string{"delay", "abort", "corrupt", "reset"}

// newSchedule prepares the schedule of cfg and defines its gauges; stats
// are by rule index.
func newSchedule(cfg *config.Config, stats []ruleStats) (schedule, error) {
	sc := schedule{on: cfg.Expires != 0}
	for i, rule := range cfg.Rules {
		st := &stats[i].timedStats
		st.timed = sc.on
		if !rule.Timed() {
			continue
		}
		sc.on, st.timed = true, true
		sc.timed = append(sc.timed, i)
		var err error
		if rule.Active != nil {
			if st.activeID, err = abi.DefineMetric(abi.MetricTypeGauge, fault.RuleMetric(rule.Name, "active")); err != nil {
				return sc, err
			}
		}
		for k, rp := range rule.Ramps() {
			if rp == nil {
				continue
			}
			st.ramped = true
			if st.rateIDs[k], err = abi.DefineMetric(abi.MetricTypeGauge,
				fault.RuleMetric(rule.Name, faultGaugeNames[k]+"_rate_ppm")); err != nil {
				return sc, err
			}
		}
		if st.ramped {
			st.rates = rule.Rates()
		}
	}
	return sc, nil
}

// startSchedule evaluates a newly accepted configuration's schedule and
// starts the slow tick that keeps refreshing it.
func (r *root) startSchedule(l *loaded) {
	if !l.sched.on {
		return
	}
	wall, err := abi.CurrentTime()
	if err != nil {
		wall = time.Now().UnixNano()
	}
	l.sched.start = wall
	r.refreshAt(l, now(), wall, r.id)
	r.ensureTick(idleTimedTick)
}

// skipTimed runs on the request path for a matched timed rule. It refreshes
// the schedule when an armed change is due and reports whether the rule
// injects nothing now: expired (the request is not even counted as matched,
// as with enabled false) or outside its window (counted as matched, then
// left alone, so the rule still shadows the rules after it).
func (s *stream) skipTimed(st *ruleStats) bool {
	l := s.l
	if l.sched.changeAt != 0 {
		if t := now(); t >= l.sched.changeAt {
			s.root.refresh(l, t, s.id)
		}
	}
	if l.sched.expired {
		return true
	}
	if st.inactive {
		st.inc(counterMatched)
		s.noteSkipped(st.stateInactive)
		return true
	}
	if g := st.guard; g != nil && g.halted {
		st.inc(counterMatched)
		s.noteSkipped(st.stateHalted)
		return true
	}
	return false
}

// expiredNow reports whether the stream's configuration has expired, for
// header-requested faults.
func (s *stream) expiredNow() bool {
	l := s.l
	if !l.sched.on {
		return false
	}
	if l.sched.changeAt != 0 {
		if t := now(); t >= l.sched.changeAt {
			s.root.refresh(l, t, s.id)
		}
	}
	return l.sched.expired
}

// tickSchedule refreshes the current configuration's schedule from the tick
// when one is due; mono is the tick's reading of the monotonic clock.
func (r *root) tickSchedule(mono int64) {
	// A root a newer push superseded no longer serves new streams: the
	// gauges are the newer configuration's to set.
	if l := r.cur; l != nil && l.sched.on && r.plugin.latest == l &&
		(mono >= l.sched.refreshAt || l.sched.changeAt != 0 && mono >= l.sched.changeAt) {
		r.refresh(l, mono, r.id)
	}
}

// refresh reads the wall clock and re-evaluates l's schedule. caller is the
// context of the running callback (see Plugin.releaseHeld).
func (r *root) refresh(l *loaded, mono int64, caller uint32) {
	wall, err := abi.CurrentTime()
	if err != nil {
		_ = abi.IncrementMetric(r.plugin.errorsID, 1)
		l.sched.refreshAt, l.sched.changeAt = mono+int64(refreshEvery), 0
		return
	}
	r.refreshAt(l, mono, wall, caller)
}

func (r *root) refreshAt(l *loaded, mono, wall int64, caller uint32) {
	sc := &l.sched
	cfg := l.cfg
	sc.refreshAt = mono + int64(refreshEvery)
	next := int64(0) // wall time of the next change, 0 for none
	consider := func(t int64) {
		if t > wall && (next == 0 || t < next) {
			next = t
		}
	}
	if exp := cfg.Expires; exp != 0 {
		if wall >= exp {
			if !sc.expired {
				sc.expired = true
				r.plugin.recordExpired(1)
				_ = abi.Log(abi.LogLevelWarn, "nedry: configuration expired at "+
					cfg.ExpiresText+": nothing is injected until a new configuration is pushed")
				// As with the kill switch, faults end at the instant, not
				// when the delays drawn before it run out.
				r.plugin.releaseHeld(caller, func(s *stream) bool { return s.l == l })
			}
		} else {
			consider(exp)
		}
	}
	for _, i := range sc.timed {
		rule, st := cfg.Rules[i], &l.stats[i]
		if a := rule.Active; a != nil {
			inactive := !a.At(wall)
			if inactive != st.inactive || !st.sent {
				st.inactive = inactive
				_ = abi.RecordMetric(st.activeID, boolGauge(!inactive))
			}
			consider(a.Next(wall))
		}
		for k, rp := range rule.Ramps() {
			if rp == nil {
				continue
			}
			origin := sc.start
			if rp.Start != 0 {
				origin = rp.Start
			}
			ppm, step := rp.At(time.Duration(wall - origin))
			if ppm != st.rates[k] || !st.sent {
				st.rates[k] = ppm
				_ = abi.RecordMetric(st.rateIDs[k], uint64(ppm))
			}
			if step >= 0 {
				consider(origin + int64(step))
			}
		}
		st.sent = true
	}
	sc.changeAt = 0
	if next != 0 && next-wall <= int64(armWindow) {
		sc.changeAt = mono + (next - wall)
	}
}

func boolGauge(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// recordExpired sets nedry.expired, defining it on first use.
func (p *Plugin) recordExpired(v uint64) {
	if !p.expiredDefined {
		id, err := abi.DefineMetric(abi.MetricTypeGauge, fault.MetricExpired)
		if err != nil {
			return
		}
		p.expiredID, p.expiredDefined = id, true
	}
	_ = abi.RecordMetric(p.expiredID, v)
}

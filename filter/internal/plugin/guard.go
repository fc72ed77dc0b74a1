package plugin

import (
	"encoding/binary"
	"errors"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/nedry-chaos/nedry/filter/internal/abi"
	"github.com/nedry-chaos/nedry/filter/internal/config"
	"github.com/nedry-chaos/nedry/filter/internal/fault"
)

// Guardrails (a rule's halt). The control group of a guarded rule is every
// request it matched into which Nedry injected nothing; each one is watched
// to its response headers (and trailers for gRPC) and counted in this VM:
// error or not, slow or not. At most every guardEvery, from the tick, the
// counts are added to a sliding window of guardBuckets buckets shared by
// every worker VM through proxy-wasm shared data (compare-and-swap), and the
// merged window decides. A halt is one shared key, the wall time until which
// the rule is halted, which every worker reads at the same rate: a halt seen
// by one worker stops the rule on all of them within one tick period plus
// guardEvery. Keys carry a generation (the configuration's hash and this
// VM's count of accepted configurations), so a push starts clean and two
// roots alive during a push never mix.
const (
	guardBuckets = 10
	guardEvery   = 250 * time.Millisecond
	bucketBytes  = 8 + 3*4
	casRetries   = 4
)

// guard is a guarded rule's bookkeeping in one VM.
type guard struct {
	halt          *config.Halt
	key, untilKey string // shared data keys
	bucket        int64  // bucket width in ns (window / guardBuckets)
	// Counts of control requests not yet merged into the shared window.
	total, errs, slow uint32
	// haltedUntil is the wall time (ns) the rule is halted until, as last
	// read; halted mirrors the gauge.
	haltedUntil int64
	halted      bool
	halts       uint32 // counter nedry.rule.<name>.halts
	haltedID    uint32 // gauge nedry.rule.<name>.halted
	// buf holds the window while it is merged: memory handed to the host
	// escapes, and a local array would be allocated at every merge.
	buf [guardBuckets * bucketBytes]byte
}

// generation names the configuration in shared data keys.
func generation(data []byte, accepted uint32) string {
	h := fnv.New64a()
	h.Write(data)
	return strconv.FormatUint(h.Sum64(), 16) + "." + strconv.FormatUint(uint64(accepted), 10)
}

func newGuard(rule *config.Rule, gen string) (*guard, error) {
	g := &guard{halt: rule.Halt, bucket: int64(rule.Halt.Window) / guardBuckets}
	g.key = "nedry.halt." + gen + "." + rule.Name
	g.untilKey = g.key + ".until"
	var err error
	if g.halts, err = abi.DefineMetric(abi.MetricTypeCounter, fault.RuleMetric(rule.Name, "halts")); err != nil {
		return nil, err
	}
	if g.haltedID, err = abi.DefineMetric(abi.MetricTypeGauge, fault.RuleMetric(rule.Name, "halted")); err != nil {
		return nil, err
	}
	_ = abi.RecordMetric(g.haltedID, 0)
	return g, nil
}

// startWatch makes s a control request of its guarded rule: it stays
// awake to its response, timed from now.
func (s *stream) startWatch() {
	s.watch = true
	if s.plan.stats.guard.halt.HasSlow && s.sentAt == 0 {
		// A clock read only when slowness counts, and not again for a
		// request timed at its request headers already (a response-phase
		// delay dropped at the response, see start).
		s.sentAt = now()
	}
}

// watchQuietly hands the watch of control request s to the ABI layer
// (abi.Watch): the stream goes quiet and its context is recycled, and at
// its response headers the layer calls the rule's guard
// (OnWatchedResponse) with the start time. Kept awake instead, a control
// request cost its context in the registry to its response headers and a
// callback into the stream's plugin code there (BenchmarkTimed/guarded).
// It reports false, and the stream stays awake, for a gRPC request whose
// errors count (its status may come in the trailers) and when the layer's
// table of watched streams is full.
func (s *stream) watchQuietly() bool {
	g := s.plan.stats.guard
	if s.grpc && g.halt.HasError {
		return false
	}
	return abi.Watch(s.id, g, s.sentAt)
}

// OnWatchedResponse counts a control request that went quiet watched
// (watchQuietly) at its response headers, as observeResponse does for one
// kept awake.
func (g *guard) OnWatchedResponse(sentAt int64) {
	g.count(g.halt.HasError && statusFailed(), g.slowSince(sentAt))
}

// slowSince reports whether a control request timed from sentAt is slow
// now; false, and no clock read, when slowness does not count.
func (g *guard) slowSince(sentAt int64) bool {
	return g.halt.HasSlow && now()-sentAt > int64(g.halt.Slow)
}

// statusFailed reports whether the response :status is 5xx.
func statusFailed() bool {
	status, _ := abi.GetHeaderMapValueShort(abi.MapTypeHTTPResponseHeaders, ":status")
	return len(status) == 3 && status[0] == '5'
}

// observeResponse counts a watched stream at its response headers: when
// errors count, an error when the status is 5xx or a gRPC status in the headers is one of
// UNKNOWN, DEADLINE_EXCEEDED, INTERNAL, UNAVAILABLE; slow when the response
// took longer than the rule's slow. A gRPC response without grpc-status in
// its headers is decided at its trailers.
func (s *stream) observeResponse() {
	g := s.plan.stats.guard
	s.slowSeen = g.slowSince(s.sentAt)
	s.sentAt = 0
	if !g.halt.HasError {
		// Only slowness counts: the status is not read (one host call and
		// one proxy_on_memory_allocate fewer per control request).
		s.finishWatch(false)
		return
	}
	if statusFailed() {
		s.finishWatch(true)
		return
	}
	if s.grpc {
		// A value too long for a status code is no failing one.
		if gs, err := abi.GetHeaderMapValueShort(abi.MapTypeHTTPResponseHeaders, "grpc-status"); err == nil || errors.Is(err, abi.ErrTooLarge) {
			s.finishWatch(grpcFailed(gs))
			return
		}
		s.watchTrailers = true
		return
	}
	s.finishWatch(false)
}

// observeTrailers decides a gRPC response at its trailers.
func (s *stream) observeTrailers() {
	gs, _ := abi.GetHeaderMapValueShort(abi.MapTypeHTTPResponseTrailers, "grpc-status")
	s.finishWatch(grpcFailed(gs))
}

func grpcFailed(code string) bool {
	switch code {
	case "2", "4", "13", "14": // UNKNOWN, DEADLINE_EXCEEDED, INTERNAL, UNAVAILABLE
		return true
	}
	return false
}

func (s *stream) finishWatch(failed bool) {
	if !s.watch {
		return
	}
	s.watch, s.watchTrailers = false, false
	s.plan.stats.guard.count(failed, s.slowSeen)
}

// count adds one control request to this VM's counts.
func (g *guard) count(failed, slow bool) {
	g.total++
	if failed {
		g.errs++
	}
	if slow {
		g.slow++
	}
}

// tickGuards merges and checks every guarded rule of l; mono is the tick's
// monotonic reading.
func (r *root) tickGuards(l *loaded, mono int64) {
	if len(l.guarded) == 0 || mono < l.guardAt {
		return
	}
	l.guardAt = mono + int64(guardEvery)
	wall, err := abi.CurrentTime()
	if err != nil {
		return
	}
	for _, i := range l.guarded {
		r.tickGuard(l, &l.stats[i], wall)
	}
}

func (r *root) tickGuard(l *loaded, st *ruleStats, wall int64) {
	g := st.guard
	total, errs, slow := g.merge(wall)
	h := g.halt
	if !g.halted && total >= uint64(h.MinRequests) {
		var share uint64
		what, max := "", uint32(0)
		switch {
		case h.HasError && errs*1000000 > uint64(h.MaxErrorPPM)*total:
			what, max, share = "error", h.MaxErrorPPM, errs*1000000/total
		case h.HasSlow && slow*1000000 > uint64(h.MaxSlowPPM)*total:
			what, max, share = "slow", h.MaxSlowPPM, slow*1000000/total
		}
		if what != "" && g.tryHalt(wall) {
			_ = abi.IncrementMetric(g.halts, 1)
			r.logHalt(st, what, uint32(share), max, total)
		}
	}
	until := g.readUntil()
	switch halted := wall < until; {
	case halted && !g.halted:
		g.halted, g.haltedUntil = true, until
		_ = abi.RecordMetric(g.haltedID, 1)
		// As with the kill switch: the faults end now, not when the
		// delays drawn before the halt run out.
		r.plugin.releaseHeld(r.id, func(s *stream) bool { return s.plan.stats == st })
	case !halted && g.halted:
		g.halted = false
		_ = abi.RecordMetric(g.haltedID, 0)
		_ = abi.Log(abi.LogLevelInfo, st.logPrefix+"resumed after the halt's cooldown")
	}
}

// merge adds this VM's counts to the shared window and returns the window's
// totals at wall.
func (g *guard) merge(wall int64) (total, errs, slow uint64) {
	epoch := wall / g.bucket
	for try := 0; try < casRetries; try++ {
		old, cas, err := abi.GetSharedDataTransient(g.key)
		if err != nil && !errors.Is(err, abi.ErrNotFound) {
			return 0, 0, 0
		}
		b := g.buf[:]
		clear(b)
		copy(b, old)
		if g.total > 0 {
			i := int(epoch%guardBuckets) * bucketBytes
			if int64(binary.LittleEndian.Uint64(b[i:])) != epoch {
				clear(b[i : i+bucketBytes])
				binary.LittleEndian.PutUint64(b[i:], uint64(epoch))
			}
			add := func(off int, n uint32) {
				binary.LittleEndian.PutUint32(b[i+off:], binary.LittleEndian.Uint32(b[i+off:])+n)
			}
			add(8, g.total)
			add(12, g.errs)
			add(16, g.slow)
			if err := abi.SetSharedData(g.key, b, cas); errors.Is(err, abi.ErrCasMismatch) {
				continue // another worker wrote meanwhile: read again
			}
			g.total, g.errs, g.slow = 0, 0, 0
		}
		for k := 0; k < guardBuckets; k++ {
			j := k * bucketBytes
			if e := int64(binary.LittleEndian.Uint64(b[j:])); e > epoch-guardBuckets && e <= epoch {
				total += uint64(binary.LittleEndian.Uint32(b[j+8:]))
				errs += uint64(binary.LittleEndian.Uint32(b[j+12:]))
				slow += uint64(binary.LittleEndian.Uint32(b[j+16:]))
			}
		}
		return total, errs, slow
	}
	return 0, 0, 0
}

// tryHalt sets the shared halt unless another worker already did; only the
// worker whose write succeeds reports the halt. The window starts empty
// again, so the rule is judged afresh after its cooldown.
func (g *guard) tryHalt(wall int64) bool {
	old, cas, err := abi.GetSharedDataTransient(g.untilKey)
	if err == nil && len(old) == 8 && int64(binary.LittleEndian.Uint64(old)) > wall {
		return false
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(wall+int64(g.halt.Cooldown)))
	if abi.SetSharedData(g.untilKey, b[:], cas) != nil {
		return false
	}
	_ = abi.SetSharedData(g.key, nil, 0)
	return true
}

func (g *guard) readUntil() int64 {
	b, _, err := abi.GetSharedDataTransient(g.untilKey)
	if err != nil || len(b) != 8 {
		return 0
	}
	return int64(binary.LittleEndian.Uint64(b))
}

// logHalt writes the one error line of a halt: the measured share, the
// threshold, the window, and the rates a ramp had reached (the breaking
// point).
func (r *root) logHalt(st *ruleStats, what string, share, max uint32, total uint64) {
	h := st.guard.halt
	b := []byte(st.logPrefix)
	b = append(b, "halted for "...)
	b = append(b, h.Cooldown.String()...)
	b = append(b, ": "...)
	b = append(b, what...)
	b = append(b, " share "...)
	b = appendPercent(b, share)
	b = append(b, " of "...)
	b = strconv.AppendUint(b, total, 10)
	b = append(b, " control requests over "...)
	b = append(b, h.Window.String()...)
	b = append(b, ", above "...)
	b = appendPercent(b, max)
	if st.ramped {
		for k, rp := range st.rule.Ramps() {
			if rp != nil {
				b = append(b, "; "...)
				b = append(b, faultGaugeNames[k]...)
				b = append(b, " rate at halt "...)
				b = appendPercent(b, st.rates[k])
			}
		}
	}
	_ = abi.LogBytes(abi.LogLevelError, b)
}

// appendPercent writes ppm as a percentage with up to four decimals.
func appendPercent(b []byte, ppm uint32) []byte {
	b = strconv.AppendUint(b, uint64(ppm/10000), 10)
	if frac := ppm % 10000; frac != 0 {
		d := strconv.FormatUint(uint64(frac)+10000, 10)[1:]
		for len(d) > 0 && d[len(d)-1] == '0' {
			d = d[:len(d)-1]
		}
		b = append(b, '.')
		b = append(b, d...)
	}
	return append(b, '%')
}

// startGuards prepares the guarded rules of a newly accepted configuration
// (data is its JSON, for the generation); they keep the schedule's tick.
func (r *root) startGuards(l *loaded, data []byte) error {
	r.plugin.accepted++
	var gen string
	for i, rule := range l.cfg.Rules {
		if rule.Halt == nil {
			continue
		}
		if gen == "" {
			gen = generation(data, r.plugin.accepted)
		}
		g, err := newGuard(rule, gen)
		if err != nil {
			return err
		}
		st := &l.stats[i]
		st.guard, st.timed = g, true
		l.guarded = append(l.guarded, i)
	}
	if len(l.guarded) > 0 && !l.sched.on {
		l.sched.on = true
		r.ensureTick(idleTimedTick)
	}
	return nil
}

package plugin

import (
	"strconv"

	"github.com/nedry-chaos/nedry/filter/internal/abi"
	"github.com/nedry-chaos/nedry/filter/internal/config"
)

// releaseHeld lets go every stream that a delay holds in this VM, under any
// of its roots, for which which reports true (nil: all of them). Each one
// continues where it was held, and nothing of its plan is injected
// afterwards (see stream.letGo). It is the one way Nedry gives up faults
// already in flight: the kill switch releases every held stream, and a
// feature that stops a rule can release that rule's streams alone.
//
// It may run from any callback: caller is the context that callback runs
// on, made effective again at the end, so that the callback's later host
// calls act on it and not on the last stream released. Envoy defers the
// continues until the callback returns, as it does those of a tick. The
// change of nedry.active_faults is sent at once, not at the next tick: the
// roots that held the streams may have no tick left to come. It returns how
// many streams it released.
func (p *Plugin) releaseHeld(caller uint32, which func(*stream) bool) int {
	if which == nil {
		which = func(*stream) bool { return true }
	}
	n := 0
	for _, r := range p.roots {
		r.queue.RemoveFunc(which, func(s *stream) {
			n++
			p.release()
			r.letGo(s)
		})
	}
	if n > 0 {
		p.flushGauge()
		_ = abi.SetEffectiveContext(caller)
	}
	return n
}

// stopFaults is the kill switch taking effect in this VM: a configuration
// with enabled false was accepted by root caller. Every held stream is
// released, and the streams already past their request headers inject
// nothing more (see stream.stopped), whichever root they belong to. Faults
// end at the push, not when the delays they were drawn with run out.
func (p *Plugin) stopFaults(caller uint32) {
	p.stops++
	p.dropDuplicates()
	if n := p.releaseHeld(caller, nil); n > 0 {
		_ = abi.Log(abi.LogLevelInfo, "nedry: kill switch: released "+strconv.Itoa(n)+" held streams")
	}
}

// letGo continues held stream s, already out of r's queue, as resume does
// for a stream whose delay is over, but with the rest of its plan dropped.
func (r *root) letGo(s *stream) {
	if err := abi.SetEffectiveContext(s.id); err != nil {
		return
	}
	defer r.recoverStream(s)
	s.letGo()
}

// letGo continues a stream released before its delay ended. Its remaining
// faults are dropped, so neither the abort or reset it was delayed for nor
// a corruption follows, at request or at response headers. A response that
// reaches the client still carries the tag of the delay it had: the stream
// was held, and the tag says by whom.
func (s *stream) letGo() {
	s.plan.faults = 0
	s.holdResponse = false
	s.noteApplied()
	if s.phase == config.PhaseResponse {
		s.applyResponse()
		_ = abi.ContinueStream(abi.StreamTypeHTTPResponse)
		return
	}
	_ = abi.ContinueStream(abi.StreamTypeHTTPRequest)
	s.quietIfSettled()
}

// stopped reports whether the kill switch was pushed since the stream
// started: then it injects nothing more.
func (s *stream) stopped() bool { return s.stopsAt != s.root.plugin.stops }

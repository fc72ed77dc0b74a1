package plugin

import (
	"strconv"

	"github.com/nedry-chaos/nedry/filter/internal/abi"
	"github.com/nedry-chaos/nedry/filter/internal/config"
	"github.com/nedry-chaos/nedry/filter/internal/fault"
)

// responseDetails is the response code details of Nedry's local replies, as
// Envoy shows them in access logs (%RESPONSE_CODE_DETAILS%).
const responseDetails = "nedry_fault_abort"

// start carries out the plan at request headers: the delay first, then
// (when it ends, or now if there is none) abort, reset or corruption.
func (s *stream) start() abi.Action {
	p := &s.plan
	if p.faults == 0 {
		s.noteState()
		return abi.ActionContinue
	}
	if p.faults&config.FaultDelay != 0 && p.delay <= 0 {
		// Jitter cancelled the delay: nothing to hold.
		p.faults &^= config.FaultDelay
	}
	if s.cfg.DryRun {
		s.dryRun()
		s.noteState()
		return abi.ActionContinue
	}
	if p.faults&config.FaultDuplicate != 0 {
		// An aborted or reset request never reaches the upstream: there
		// is nothing to duplicate.
		if p.faults&(config.FaultAbort|config.FaultReset) != 0 || !s.planDuplicate() {
			p.faults &^= config.FaultDuplicate
		}
	}
	s.noteState()
	if p.faults&config.FaultDelay != 0 {
		if p.phase == config.PhaseResponse {
			s.holdResponse = true
			if g := p.stats.guard; g != nil && g.halt.HasSlow {
				// Should max_active_faults drop the delay at the response,
				// the request is a control request after all, timed from
				// here (see OnResponseHeaders).
				s.sentAt = now()
			}
		} else if s.hold() {
			return abi.ActionPause
		}
	}
	return s.applyRequest()
}

// hold pauses the stream for the plan's delay, or counts an overflow and
// drops the delay when the VM already holds max_active_faults streams.
func (s *stream) hold() bool {
	p := &s.plan
	if s.root.plugin.active >= s.cfg.MaxActiveFaults {
		p.faults &^= config.FaultDelay
		p.stats.inc(counterOverflow)
		s.logFault("overflow")
		s.noteState()
		return false
	}
	p.stats.inc(counterDelays)
	s.applied |= config.FaultDelay
	s.logFault("delay")
	s.phase = p.phase
	s.root.enqueue(s, now()+int64(p.delay), s.cfg.Tick)
	return true
}

// applyRequest injects the request-side faults. If both are drawn, abort
// wins over reset: the reply is what the rule describes in detail, and a
// stream already answered cannot be reset. An aborted or reset request
// never reaches the upstream, so its corruption is skipped too.
func (s *stream) applyRequest() abi.Action {
	p := &s.plan
	switch {
	case p.faults&config.FaultAbort != 0:
		s.abort()
		return abi.ActionPause
	case p.faults&config.FaultReset != 0:
		p.stats.inc(counterResets)
		s.applied |= config.FaultReset
		s.logFault("reset")
		_ = abi.CloseStream(abi.StreamTypeHTTPRequest)
		return abi.ActionPause
	}
	if p.faults&config.FaultCorrupt != 0 && len(p.reqOps) > 0 {
		s.corrupt(abi.MapTypeHTTPRequestHeaders, p.reqOps)
	}
	s.armRequestBody()
	return abi.ActionContinue
}

func (s *stream) abort() {
	p := &s.plan
	p.stats.inc(counterAborts)
	s.applied |= config.FaultAbort
	s.logFault("abort")
	grpc := int32(-1)
	if p.grpcStatus >= 0 && s.grpc {
		grpc = p.grpcStatus
	}
	s.localReply = true
	_ = abi.SendLocalResponse(p.abortStatus, responseDetails, p.body, s.replyHeaders(), grpc)
}

// replyHeaders returns the serialized extra headers of the local reply,
// tag included, built once per rule and fault set.
func (s *stream) replyHeaders() []byte {
	st := s.plan.stats
	if st.replies == nil {
		st.replies = new([16][]byte)
	}
	f := s.applied & 15
	if b := st.replies[f]; b != nil {
		return b
	}
	hs := s.plan.headers
	if name := s.cfg.ResponseHeader; name != "" {
		hs = append(hs[:len(hs):len(hs)], [2]string{name, st.tag(f)})
	}
	b := abi.AppendPairs(nil, hs)
	if b == nil {
		b = []byte{}
	}
	st.replies[f] = b
	return b
}

// corrupt applies ops to map m, counting the corruption once per stream.
func (s *stream) corrupt(m abi.MapType, ops []config.HeaderOp) {
	s.countCorruption()
	p := s.root.plugin
	if n := fault.ApplyOps(ops, headerMap(m), s.l.rnd, &p.garbleBuf); n > 0 {
		_ = abi.IncrementMetric(p.opsSkipped, int64(n))
		s.logFault("corrupt: op skipped, header value over 65536 bytes")
	}
}

// countCorruption counts and logs the stream's corruption, once.
func (s *stream) countCorruption() {
	if s.applied&config.FaultCorrupt == 0 {
		s.plan.stats.inc(counterCorruptions)
		s.applied |= config.FaultCorrupt
		s.logFault("corrupt")
	}
}

// resume runs when the stream's delay is over (from the root's tick, with
// the effective context set to this stream).
func (s *stream) resume() {
	if s.panicAt == panicTick {
		panic(selfTestPanic{})
	}
	if s.phase == config.PhaseResponse {
		s.applyResponse()
		_ = abi.ContinueStream(abi.StreamTypeHTTPResponse)
		return
	}
	if s.applyRequest() == abi.ActionContinue {
		_ = abi.ContinueStream(abi.StreamTypeHTTPRequest)
	}
	s.quietIfSettled()
}

// failOpen lets a stream whose resumption panicked go on untouched.
func (s *stream) failOpen() {
	if s.localReply {
		return
	}
	st := abi.StreamTypeHTTPRequest
	if s.phase == config.PhaseResponse {
		st = abi.StreamTypeHTTPResponse
	}
	_ = abi.ContinueStream(st)
}

func (s *stream) applyResponse() {
	p := &s.plan
	if p.faults&config.FaultCorrupt != 0 && len(p.respOps) > 0 {
		s.corrupt(abi.MapTypeHTTPResponseHeaders, p.respOps)
	}
	if p.faults&config.FaultCorrupt != 0 && p.respBody != nil {
		s.armResponseBody(p.respBody)
	}
	if name := s.cfg.ResponseHeader; name != "" && s.applied != 0 {
		_ = abi.ReplaceHeaderMapValue(abi.MapTypeHTTPResponseHeaders, name, p.stats.tag(s.applied))
	}
}

// dryRun counts and logs what the plan would inject, and injects nothing.
func (s *stream) dryRun() {
	p := &s.plan
	kinds := [...]struct {
		f       config.FaultSet
		counter int
		name    string
	}{
		{config.FaultDelay, counterDelays, "dry run: delay"},
		{config.FaultAbort, counterAborts, "dry run: abort"},
		{config.FaultCorrupt, counterCorruptions, "dry run: corrupt"},
		{config.FaultReset, counterResets, "dry run: reset"},
	}
	for _, k := range kinds {
		if p.faults&k.f != 0 {
			p.stats.inc(k.counter)
			s.logFault(k.name)
		}
	}
	if p.faults&config.FaultDuplicate != 0 {
		// No copy is sent, so no duplicate counter moves.
		s.logFault("dry run: duplicate")
	}
	// Nothing is left to inject, at response headers either.
	p.faults = 0
}

// logFault logs an injected fault at debug level. It does not ask the host
// for its level first: proxy_get_log_level is missing from some hosts (the
// proxy-wasm-go-sdk emulator, which host-test uses as a second opinion), so
// the line is built instead without allocating, in the VM's reused buffer,
// and only for injected faults, whose rate the configuration bounds. Envoy
// copies the message; a host that keeps the guest's bytes instead (the
// emulator does) sees its older fault lines overwritten.
func (s *stream) logFault(kind string) {
	p := s.root.plugin
	if !p.debugEnabled() {
		return
	}
	b := append(p.logBuf[:0], s.logPrefix()...)
	b = append(b, kind...)
	b = append(b, " (stream "...)
	b = strconv.AppendUint(b, uint64(s.id), 10)
	b = append(b, ')')
	p.logBuf = b
	_ = abi.LogBytes(abi.LogLevelDebug, b)
}

func (s *stream) logPrefix() string {
	if s.plan.stats != nil {
		return s.plan.stats.logPrefix
	}
	return "nedry: "
}

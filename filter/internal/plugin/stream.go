package plugin

import (
	"strconv"
	"strings"
	"time"

	"github.com/nedry-chaos/nedry/filter/internal/abi"
	"github.com/nedry-chaos/nedry/filter/internal/config"
	"github.com/nedry-chaos/nedry/filter/internal/fault"
	"github.com/nedry-chaos/nedry/filter/internal/match"
)

// Property paths read by the request view, joined once.
var (
	propRouteName   = abi.PropertyPath("xds", "route_name")
	propVirtualHost = abi.PropertyPath("xds", "virtual_host_name")
	propCluster     = abi.PropertyPath("xds", "cluster_name")
)

// responseDetails is the response code details of Nedry's local replies, as
// Envoy shows them in access logs (%RESPONSE_CODE_DETAILS%).
const responseDetails = "nedry_fault_abort"

// stream is an HTTP stream context. It owns its decision and pause state.
type stream struct {
	id   uint32
	root *root
	l    *loaded        // nil when the root had no configuration
	cfg  *config.Config // l.cfg

	// The request headers as they arrived, fetched once with
	// proxy_get_header_map_pairs: they serve the matcher, header control
	// and the removal of x-nedry-* headers without another host call.
	// Valid during OnRequestHeaders only (a reused buffer).
	headers abi.Pairs
	// What the matcher reads most, taken from headers in one pass (first
	// values, as Get returns them); transient like headers.
	path, method, authority string
	control                 bool // some x-nedry-* request header is present
	grpc                    bool // content-type starts with application/grpc
	// Properties, fetched on first use; transient like headers.
	routeName, virtualHost, cluster string
	fetched                         uint8 // bits: 1 route, 2 vhost, 4 cluster

	plan    plan
	applied config.FaultSet // faults actually injected, for the tag

	fault.Slot        // place in root.queue while a delay holds the stream
	localReply   bool // Nedry answered; response callbacks see its reply
	holdResponse bool // a response-phase delay waits for response headers
	phase        config.Phase
	panicAt      uint8 // see selftest.go
}

// plan is what the stream will inject, from a rule's decision or from
// request-control headers. A plan is only ever set with its stats, so a nil
// stats means the plan is zero (stream.reset relies on it).
type plan struct {
	stats       *ruleStats
	faults      config.FaultSet
	delay       time.Duration
	phase       config.Phase
	abortStatus uint32
	grpcStatus  int32
	body        []byte
	headers     [][2]string // extra local-reply headers
	reqOps      []config.HeaderOp
	respOps     []config.HeaderOp
}

// OnRequestHeaders removes the x-nedry-* headers, picks the rule, draws its
// faults and starts carrying them out.
func (s *stream) OnRequestHeaders(int, bool) abi.Action {
	// The header view lives in a buffer the next request reuses: nothing
	// may read it after this callback, even one that panicked.
	defer s.dropHeaders()
	a := s.onRequestHeaders()
	s.quietIfSettled()
	return a
}

// quietIfSettled tells the ABI layer to answer the stream's remaining
// callbacks itself when none of them has work left (see abi.Quiet): most
// streams match no rule or draw no fault. When the layer holds no reference
// to the stream (it went quiet in its first callback), the context is
// recycled at once: callers must not use s afterwards (OnRequestHeaders'
// deferred dropHeaders only clears fields that are already clear).
func (s *stream) quietIfSettled() {
	if !s.Queued() && !s.holdResponse && s.panicAt != panicResponse && !s.needsResponse() {
		if abi.Quiet(s.id) {
			s.root.plugin.recycle(s)
		}
	}
}

// needsResponse reports whether OnResponseHeaders has work on this stream:
// response corruption or the tag on an upstream response.
func (s *stream) needsResponse() bool {
	if s.localReply || s.cfg == nil {
		return false
	}
	p := &s.plan
	return (p.faults&config.FaultCorrupt != 0 && len(p.respOps) > 0) ||
		(s.cfg.ResponseHeader != "" && s.applied != 0)
}

// reset clears every field for the stream's reuse (see Plugin.recycle). It
// clears field by field, and the plan only when one was made, because in Go
// on wasm `*s = stream{}` on this pointer-laden struct cost about 250 ns per
// request (guest time per callback, measured), more than the rest of the
// delete. TestStreamReset fails when a field is added and cleared neither
// here nor by dropHeaders.
func (s *stream) reset() {
	// The transient request view needs nothing: OnRequestHeaders drops it
	// when it returns, even after a panic, and nothing else sets it.
	s.id, s.root, s.l, s.cfg = 0, nil, nil, nil
	s.control, s.grpc = false, false
	if p := &s.plan; p.stats != nil {
		p.stats, p.faults, p.delay, p.phase = nil, 0, 0, 0
		p.abortStatus, p.grpcStatus, p.body, p.headers = 0, 0, nil, nil
		p.reqOps, p.respOps = nil, nil
	}
	s.applied = 0
	s.Slot = fault.Slot{}
	s.localReply, s.holdResponse = false, false
	s.phase, s.panicAt = 0, 0
}

// dropHeaders forgets every transient view of the request (headers and
// properties live in memory the next callback reuses).
func (s *stream) dropHeaders() {
	s.headers = abi.Pairs{}
	s.path, s.method, s.authority = "", "", ""
	s.routeName, s.virtualHost, s.cluster, s.fetched = "", "", "", 0
}

func (s *stream) onRequestHeaders() abi.Action {
	h, err := abi.GetHeaderMapPairsTransient(abi.MapTypeHTTPRequestHeaders)
	if err != nil {
		// Without the header list, at least the known control headers must
		// not reach the upstream.
		for _, name := range knownControlHeaders {
			_ = abi.RemoveHeaderMapValue(abi.MapTypeHTTPRequestHeaders, name)
		}
		return abi.ActionContinue
	}
	s.headers = h
	s.scanHeaders()
	cfg := s.cfg
	// Without any x-nedry-* header there is nothing to parse or strip.
	ctl := fault.Control{GRPCStatus: -1}
	if s.control && cfg != nil && cfg.Enabled && s.l.hc != nil {
		ctl = fault.ParseControl(cfg.HeaderControl, s.Header)
	}
	if s.control {
		// Always, whatever the configuration says: control headers are
		// meant for Nedry and must not leak to the upstream.
		s.stripControlHeaders()
	}
	if cfg == nil || !cfg.Enabled {
		return abi.ActionContinue
	}
	if s.control && s.l.hc != nil {
		if s.panicAt = s.requestedPanic(cfg.HeaderControl); s.panicAt == panicRequest {
			panic(selfTestPanic{})
		}
	}
	if ctl.Any {
		s.planControl(ctl)
	} else {
		rule := cfg.Match(s)
		if rule == nil {
			return abi.ActionContinue
		}
		st := &s.l.stats[rule.Index]
		st.inc(counterMatched)
		s.planRule(st, fault.Decide(rule, s.l.rnd))
	}
	return s.start()
}

// scanHeaders reads, in one pass over the request headers, what every
// request needs: the pseudo-headers the matcher reads, the gRPC flag, and
// whether any control header is present. The first value of each wins, as
// with Pairs.Get.
func (s *stream) scanHeaders() {
	const (
		seenPath = 1 << iota
		seenMethod
		seenAuthority
		seenContentType
	)
	var seen uint8
	for c := s.headers.Cursor(); ; {
		k, v, ok := c.Next()
		if !ok {
			return
		}
		// Dispatch on the first byte before comparing whole names: most
		// headers start with none of these, and in wasm every string
		// comparison of equal lengths is a call to runtime.memequal.
		if k == "" {
			continue
		}
		switch k[0] {
		case ':':
			switch {
			case k == ":path":
				if seen&seenPath == 0 {
					seen |= seenPath
					s.path = v
				}
			case k == ":method":
				if seen&seenMethod == 0 {
					seen |= seenMethod
					s.method = v
				}
			case k == ":authority":
				if seen&seenAuthority == 0 {
					seen |= seenAuthority
					s.authority = v
				}
			}
		case 'c':
			if k == "content-type" && seen&seenContentType == 0 {
				seen |= seenContentType
				s.grpc = strings.HasPrefix(v, "application/grpc")
			}
		case fault.HeaderPrefix[0]:
			if strings.HasPrefix(k, fault.HeaderPrefix) {
				s.control = true
			}
		}
	}
}

var knownControlHeaders = [...]string{
	fault.HeaderAbort, fault.HeaderAbortGRPC, fault.HeaderDelayMS, fault.HeaderSecret, headerPanic,
}

func (s *stream) stripControlHeaders() {
	for c := s.headers.Cursor(); ; {
		k, _, ok := c.Next()
		if !ok {
			return
		}
		if strings.HasPrefix(k, fault.HeaderPrefix) {
			_ = abi.RemoveHeaderMapValue(abi.MapTypeHTTPRequestHeaders, k)
		}
	}
}

func (s *stream) planRule(st *ruleStats, d fault.Decision) {
	// The plan is zero here (a new or reset stream, one plan per request),
	// and filled in place: in Go on wasm, assigning a whole struct that
	// holds pointers costs far more than its field stores.
	rule := st.rule
	p := &s.plan
	p.stats, p.faults, p.delay, p.phase, p.grpcStatus = st, d.Faults(), d.Delay, d.Phase, -1
	if a := rule.Abort; a != nil {
		p.abortStatus, p.grpcStatus, p.body, p.headers = a.HTTPStatus, a.GRPCStatus, a.Body, a.Headers
	}
	if c := rule.Corrupt; c != nil {
		p.reqOps, p.respOps = c.Request, c.Response
	}
}

// defaultAbortBody is the body of header-controlled aborts.
var defaultAbortBody = []byte(config.DefaultAbortBody)

func (s *stream) planControl(ctl fault.Control) {
	// Filled in place, as in planRule.
	p := &s.plan
	p.stats, p.grpcStatus, p.abortStatus, p.body = s.l.hc, ctl.GRPCStatus, ctl.AbortStatus, defaultAbortBody
	if ctl.AbortStatus != 0 || ctl.GRPCStatus >= 0 {
		p.faults |= config.FaultAbort
		if p.abortStatus == 0 {
			p.abortStatus = config.DefaultHTTPStatus
		}
	}
	if ctl.Delay > 0 {
		p.faults |= config.FaultDelay
		p.delay = ctl.Delay
	}
	s.l.hc.inc(counterMatched)
}

// start carries out the plan at request headers: the delay first, then
// (when it ends, or now if there is none) abort, reset or corruption.
func (s *stream) start() abi.Action {
	p := &s.plan
	if p.faults == 0 {
		return abi.ActionContinue
	}
	if p.faults&config.FaultDelay != 0 && p.delay <= 0 {
		// Jitter cancelled the delay: nothing to hold.
		p.faults &^= config.FaultDelay
	}
	if s.cfg.DryRun {
		s.dryRun()
		return abi.ActionContinue
	}
	if p.faults&config.FaultDelay != 0 {
		if p.phase == config.PhaseResponse {
			s.holdResponse = true
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
	if s.root.retiring {
		// Envoy already asked this root to finish (a newer configuration
		// serves): once it is deleted its ticks stop, and a stream paused
		// now would never resume. Only a response-phase delay of a stream
		// that started before the push can get here.
		p.faults &^= config.FaultDelay
		s.logFault("delay skipped, configuration replaced")
		return false
	}
	if s.root.plugin.active >= s.cfg.MaxActiveFaults {
		p.faults &^= config.FaultDelay
		p.stats.inc(counterOverflow)
		s.logFault("overflow")
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
	if s.applied&config.FaultCorrupt == 0 {
		s.plan.stats.inc(counterCorruptions)
		s.applied |= config.FaultCorrupt
		s.logFault("corrupt")
	}
	fault.ApplyOps(ops, headerMap(m), s.l.rnd, &s.root.plugin.garbleBuf)
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

func (s *stream) OnRequestBody(int, bool) abi.Action { return abi.ActionContinue }
func (s *stream) OnRequestTrailers(int) abi.Action   { return abi.ActionContinue }

// OnResponseHeaders holds a response-phase delay, corrupts upstream
// responses and tags responses Nedry touched. Envoy calls it for Nedry's own
// local replies too; those already carry their tag and are left alone.
func (s *stream) OnResponseHeaders(int, bool) abi.Action {
	if s.localReply || s.cfg == nil {
		return abi.ActionContinue
	}
	if s.panicAt == panicResponse {
		panic(selfTestPanic{})
	}
	if s.holdResponse {
		s.holdResponse = false
		if s.hold() {
			return abi.ActionPause
		}
	}
	s.applyResponse()
	return abi.ActionContinue
}

func (s *stream) applyResponse() {
	p := &s.plan
	if p.faults&config.FaultCorrupt != 0 && len(p.respOps) > 0 {
		s.corrupt(abi.MapTypeHTTPResponseHeaders, p.respOps)
	}
	if name := s.cfg.ResponseHeader; name != "" && s.applied != 0 {
		_ = abi.ReplaceHeaderMapValue(abi.MapTypeHTTPResponseHeaders, name, p.stats.tag(s.applied))
	}
}

func (s *stream) OnResponseBody(int, bool) abi.Action { return abi.ActionContinue }
func (s *stream) OnResponseTrailers(int) abi.Action   { return abi.ActionContinue }

// OnLog, OnDone and OnDelete each drop a stream that ends while paused
// (client reset, timeout): it leaves the queue and is never resumed. Envoy
// calls all three, in that order; some hosts (the proxy-wasm-go-sdk
// emulator) only call proxy_on_log, so the first one does the work.
func (s *stream) OnLog() { s.root.dequeue(s) }

func (s *stream) OnDone() { s.root.dequeue(s) }

// OnDelete is the last callback of a stream: its context is recycled.
func (s *stream) OnDelete() {
	s.root.dequeue(s)
	s.root.plugin.recycle(s)
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

// The lazy request view for the matcher (match.Request). Headers come from
// the snapshot taken at request headers; properties cost one host call each,
// the first time a rule asks.
var _ match.Request = (*stream)(nil)

func (s *stream) RouteName() string {
	if s.fetched&1 == 0 {
		s.fetched |= 1
		s.routeName, _ = abi.GetPropertyPathTransient(propRouteName)
	}
	return s.routeName
}

func (s *stream) VirtualHost() string {
	if s.fetched&2 == 0 {
		s.fetched |= 2
		s.virtualHost, _ = abi.GetPropertyPathTransient(propVirtualHost)
	}
	return s.virtualHost
}

func (s *stream) Cluster() string {
	if s.fetched&4 == 0 {
		s.fetched |= 4
		s.cluster, _ = abi.GetPropertyPathTransient(propCluster)
	}
	return s.cluster
}

func (s *stream) Path() string { return match.StripQuery(s.path) }

func (s *stream) Method() string { return s.method }

func (s *stream) Authority() string { return s.authority }

func (s *stream) Header(name string) (string, bool) { return s.headers.Get(name) }

// headerMap edits a live header map with host calls (fault.HeaderMap).
type headerMap abi.MapType

func (m headerMap) Get(name string) (string, bool) {
	// The value is read at once by ApplyOps (truncate, garble).
	v, err := abi.GetHeaderMapValueTransient(abi.MapType(m), name)
	return v, err == nil
}

// Set leaves exactly one value (fault.HeaderMap's contract) with one host
// call: Envoy's proxy_replace_header_map_value (HeaderMap::setCopy) removes
// every value of the key and adds the new one, since Envoy 1.16; Nedry
// targets 1.33 and later.
func (m headerMap) Set(name, value string) {
	_ = abi.ReplaceHeaderMapValue(abi.MapType(m), name, value)
}

func (m headerMap) Add(name, value string) {
	_ = abi.AddHeaderMapValue(abi.MapType(m), name, value)
}

func (m headerMap) Remove(name string) {
	_ = abi.RemoveHeaderMapValue(abi.MapType(m), name)
}

package plugin

import (
	"strings"

	"github.com/nedry-chaos/nedry/filter/internal/abi"
	"github.com/nedry-chaos/nedry/filter/internal/config"
	"github.com/nedry-chaos/nedry/filter/internal/fault"
)

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
		if s.expiredNow() {
			return abi.ActionContinue
		}
		s.planControl(ctl)
	} else {
		rule := cfg.Match(s)
		if rule == nil {
			return abi.ActionContinue
		}
		st := &s.l.stats[rule.Index]
		if st.timed && s.skipTimed(st) {
			return abi.ActionContinue
		}
		st.inc(counterMatched)
		s.planRule(st, s.decide(st, rule))
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

// StripControlTrailers removes every x-nedry-* request trailer, as the
// request headers are stripped, whatever the configuration says: control
// headers sent as trailers must not reach the upstream either, and are
// never honoured. Pass it to abi.SetRequestTrailersHook, which calls it for
// every stream with request trailers, quiet ones included.
func StripControlTrailers() {
	h, err := abi.GetHeaderMapPairsTransient(abi.MapTypeHTTPRequestTrailers)
	if err != nil {
		for _, name := range knownControlHeaders {
			_ = abi.RemoveHeaderMapValue(abi.MapTypeHTTPRequestTrailers, name)
		}
		return
	}
	stripControl(h, abi.MapTypeHTTPRequestTrailers)
}

func (s *stream) stripControlHeaders() { stripControl(s.headers, abi.MapTypeHTTPRequestHeaders) }

// stripControl removes from map m every key of h, its pairs, that starts
// with the control prefix.
func stripControl(h abi.Pairs, m abi.MapType) {
	for c := h.Cursor(); ; {
		k, _, ok := c.Next()
		if !ok {
			return
		}
		if strings.HasPrefix(k, fault.HeaderPrefix) {
			_ = abi.RemoveHeaderMapValue(m, k)
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
		if d.Corrupt && !s.cfg.DryRun {
			if c.RequestBody != nil {
				s.planRequestBody(c.RequestBody)
			}
			p.respBody = c.ResponseBody
		}
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

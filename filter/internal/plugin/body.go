package plugin

import (
	"strconv"

	"github.com/nedry-chaos/nedry/filter/internal/abi"
	"github.com/nedry-chaos/nedry/filter/internal/config"
	"github.com/nedry-chaos/nedry/filter/internal/fault"
)

// Body corruption (corrupt.request_body, corrupt.response_body).
//
// Envoy hands a filter its body chunk by chunk. A filter that rewrites a
// body answers StopIterationAndBuffer (ActionPause from a body callback)
// until end_of_stream: each later callback then sees the whole body so
// far, and the last rewrites it with proxy_set_buffer_bytes before it goes
// on. Its headers went on before the body, so a content-length that would
// no longer hold is removed at headers time (Envoy then frames the body
// itself). Only streams whose rule drew the corrupt fault and whose body
// qualifies (content type, content-length at most max_bytes) are ever
// buffered: every other stream keeps its quiet path.

// Body directions, indexes of stream.body.
const (
	bodyRequest = iota
	bodyResponse
)

// bodyState is one direction's body corruption on a stream.
type bodyState struct {
	// cfg is set while the body is to be rewritten.
	cfg *config.BodyCorrupt
	// seen is the body size at the last callback, largest the largest
	// chunk so far: a body without content-length is given up before the
	// next chunk could take the buffer past max_bytes.
	seen, largest int
}

// Per-rule body counters, defined only for rules with body ops.
const (
	counterBodiesTooLarge = iota
	counterBodyOpsSkipped
)

var bodyCounters = [...]string{"bodies_too_large", "body_ops_skipped"}

func defineBodyStats(s *ruleStats, r *config.Rule) error {
	if r.Corrupt == nil || (r.Corrupt.RequestBody == nil && r.Corrupt.ResponseBody == nil) {
		return nil
	}
	s.bodyIDs = new([len(bodyCounters)]uint32)
	for i, c := range bodyCounters {
		id, err := abi.DefineMetric(abi.MetricTypeCounter, fault.RuleMetric(r.Name, c))
		if err != nil {
			return err
		}
		s.bodyIDs[i] = id
	}
	return nil
}

func (s *stream) incBody(counter int, n int64) {
	if ids := s.plan.stats.bodyIDs; ids != nil {
		_ = abi.IncrementMetric(ids[counter], n)
	}
}

// bodyQualifies reports whether a body with these headers is one cfg
// rewrites: its content type matches, it is not gRPC when an op needs
// JSON, and its content-length, when given, is within max_bytes (else it
// is counted as too large). An unparsable content-length is left to Envoy,
// which rejects it; the body is then left alone.
func (s *stream) bodyQualifies(cfg *config.BodyCorrupt, contentType, contentLength string, hasLength, grpc bool) bool {
	if cfg.JSON && grpc {
		return false
	}
	if cfg.ContentType != "" && !containsFold(contentType, cfg.ContentType) {
		return false
	}
	if hasLength {
		n, err := strconv.ParseUint(contentLength, 10, 63)
		if err != nil || n == 0 {
			return false
		}
		if n > uint64(cfg.MaxBytes) {
			s.incBody(counterBodiesTooLarge, 1)
			return false
		}
	}
	return true
}

// planRequestBody decides, from the request header snapshot (valid during
// proxy_on_request_headers only), whether the request body is rewritten.
func (s *stream) planRequestBody(cfg *config.BodyCorrupt) {
	if s.reqEnd {
		return // headers only: no body will come
	}
	ct, _ := s.headers.Get("content-type")
	cl, hasLength := s.headers.Get("content-length")
	if s.bodyQualifies(cfg, ct, cl, hasLength, s.grpc) {
		s.body[bodyRequest].cfg = cfg
		s.reqLength = hasLength
	}
}

// armRequestBody runs where request headers can still change (request
// headers, or the tick that ends a request-phase delay): it removes a
// content-length the rewrite would make stale and counts the corruption.
func (s *stream) armRequestBody() {
	if s.body[bodyRequest].cfg == nil {
		return
	}
	if s.reqLength {
		_ = abi.RemoveHeaderMapValue(abi.MapTypeHTTPRequestHeaders, "content-length")
	}
	s.countCorruption()
}

// armResponseBody runs at response headers (or at the end of a
// response-phase delay, headers still held): it reads the two headers the
// decision needs and removes a content-length the rewrite would make
// stale.
func (s *stream) armResponseBody(cfg *config.BodyCorrupt) {
	if s.respEnd {
		return // headers only: no body will come
	}
	ct, _ := abi.GetHeaderMapValueTransient(abi.MapTypeHTTPResponseHeaders, "content-type")
	cl, err := abi.GetHeaderMapValueTransient(abi.MapTypeHTTPResponseHeaders, "content-length")
	hasLength := err == nil
	grpc := len(ct) >= len("application/grpc") && ct[:len("application/grpc")] == "application/grpc"
	if !s.bodyQualifies(cfg, ct, cl, hasLength, grpc) {
		return
	}
	s.body[bodyResponse].cfg = cfg
	if hasLength {
		_ = abi.RemoveHeaderMapValue(abi.MapTypeHTTPResponseHeaders, "content-length")
	}
	s.countCorruption()
}

// onBody buffers and, at end_of_stream, rewrites one direction's body.
// Streams without body work return Continue at once.
func (s *stream) onBody(dir int, size int, eos bool) abi.Action {
	b := &s.body[dir]
	if b.cfg == nil {
		return abi.ActionContinue
	}
	max := b.cfg.MaxBytes
	if !eos {
		chunk := size - b.seen
		b.seen = size
		b.largest = maxInt(b.largest, chunk)
		if size+b.largest > max {
			// Continue sends what was buffered on, unmodified, and the
			// rest streams after it.
			b.cfg, b.seen, b.largest = nil, 0, 0
			s.incBody(counterBodiesTooLarge, 1)
			return abi.ActionContinue
		}
		return abi.ActionPause
	}
	cfg := b.cfg
	b.cfg, b.seen, b.largest = nil, 0, 0
	if size > max {
		s.incBody(counterBodiesTooLarge, 1)
		return abi.ActionContinue
	}
	bt := abi.BufferTypeHTTPRequestBody
	if dir == bodyResponse {
		bt = abi.BufferTypeHTTPResponseBody
	}
	data, err := abi.GetBufferBytes(bt, 0, size)
	if err != nil {
		return abi.ActionContinue
	}
	out, skipped := fault.ApplyBody(cfg.Ops, data, s.l.rnd)
	if skipped > 0 {
		s.incBody(counterBodyOpsSkipped, int64(skipped))
	}
	if skipped < len(cfg.Ops) {
		_ = abi.SetBufferBytes(bt, 0, size, out)
	}
	return abi.ActionContinue
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// containsFold reports whether s contains the lowercase sub, ASCII
// case-insensitively, without allocating.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for ; j < len(sub); j++ {
			c := s[i+j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

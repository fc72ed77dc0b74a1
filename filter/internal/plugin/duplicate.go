package plugin

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/nedry-chaos/nedry/filter/internal/abi"
	"github.com/nedry-chaos/nedry/filter/internal/config"
	"github.com/nedry-chaos/nedry/filter/internal/fault"
)

// Duplicated requests (the duplicate fault).
//
// A stream whose rule drew the duplicate keeps a copy of its request as it
// passes: the headers at request headers, the body chunk by chunk (read,
// never held: every body callback still answers Continue unless body
// corruption buffers it anyway). Once the request is complete
// (end_of_stream) the copy goes to its root context, which sends it with
// proxy_http_call from proxy_on_tick, copies times, each after later than
// the previous one, and discards the answers, counting the failures. The
// root sends them, not the stream: the first copy is due after the
// original ended, when the stream may be gone. (cpp-host makes every call
// on the root context anyway, so a call would outlive its stream; only the
// root's deletion cancels it, see root.OnDone.)
//
// Every other stream pays nothing: the draw is made only for rules with a
// duplicate, and a stream without a copy to make goes quiet as before.

// Per-rule duplicate counters, defined only for rules with a duplicate.
const (
	counterDuplicatesSent = iota
	counterDuplicatesFailed
	counterDuplicatesTooLarge
	counterDuplicatesDropped
)

var duplicateCounters = [...]string{"duplicates_sent", "duplicates_failed", "duplicates_too_large", "duplicates_dropped"}

// VM-wide bounds on what copies keep alive, so a burst of duplicated
// requests cannot exhaust the VM: requests waiting for their copies (each
// holding its headers and body in guest memory), their bytes, and calls in
// flight (each holding a copy in the host). What would pass a bound is not
// duplicated and is counted in duplicates_dropped.
const (
	maxDuplicateJobs  = 256
	maxDuplicateBytes = 16 << 20
	maxDuplicateCalls = 1024
	// keepJobBytes is the largest buffer a finished job keeps for reuse.
	keepJobBytes = 128 << 10
)

// dupJob is one duplicated request: what its copies carry and when the next
// one is due.
type dupJob struct {
	stats *ruleStats
	dup   *config.Duplicate
	// cluster, headers (serialized pairs) and body are the copy; their
	// arrays are reused by the next job.
	cluster, headers, body []byte
	// left is the number of copies still to send, the next at due
	// (monotonic nanoseconds).
	left int
	due  int64
	// base is how much of the stream's current body buffer was copied
	// already: body corruption buffers the body, and each callback then
	// sees it whole so far.
	base int
}

func defineDuplicateStats(s *ruleStats, r *config.Rule) error {
	if r.Duplicate == nil {
		return nil
	}
	s.dupIDs = new([len(duplicateCounters)]uint32)
	for i, c := range duplicateCounters {
		id, err := abi.DefineMetric(abi.MetricTypeCounter, fault.RuleMetric(r.Name, c))
		if err != nil {
			return err
		}
		s.dupIDs[i] = id
	}
	return nil
}

func (st *ruleStats) incDup(counter int, n int64) {
	if st.dupIDs != nil && n > 0 {
		_ = abi.IncrementMetric(st.dupIDs[counter], n)
	}
}

// planDuplicate runs at request headers for a stream that drew the
// duplicate and goes upstream (no abort, no reset, no dry run). It starts
// the copy, or drops the fault when the request is too large or the VM
// holds as many copies as it may. It reports whether the stream will be
// duplicated.
func (s *stream) planDuplicate() bool {
	st := s.plan.stats
	d := st.rule.Duplicate
	p := s.root.plugin
	size := 0
	if !s.reqEnd {
		if cl, ok := s.headers.Get("content-length"); ok {
			n, err := strconv.ParseUint(cl, 10, 63)
			if err == nil && n > uint64(d.MaxBytes) {
				st.incDup(counterDuplicatesTooLarge, 1)
				return false
			}
			size = int(n) // 0 for an unparsable one, which Envoy refuses
		}
	}
	if p.dupJobs >= maxDuplicateJobs || p.dupBytes+size > maxDuplicateBytes {
		st.incDup(counterDuplicatesDropped, 1)
		return false
	}
	j := p.newJob()
	j.stats, j.dup = st, d
	if d.Cluster != "" {
		j.cluster = append(j.cluster, d.Cluster...)
	} else {
		j.cluster = append(j.cluster, s.Cluster()...)
	}
	j.headers = appendCopyHeaders(j.headers, s.headers)
	if cap(j.body) < size {
		j.body = make([]byte, 0, size)
	}
	p.dupJobs++
	p.dupBytes += len(j.headers)
	s.dup = j
	s.logFault("duplicate")
	if s.reqEnd {
		s.finishCopy()
	}
	return true
}

// copyBody appends the new bytes of the request body to the copy, and hands
// the copy to the root once the request is complete. It runs before body
// corruption may rewrite the buffer: copies carry what the client sent.
func (s *stream) copyBody(size int, eos bool) {
	j := s.dup
	if n := size - j.base; n > 0 {
		p := s.root.plugin
		if len(j.body)+n > j.dup.MaxBytes || p.dupBytes+n > maxDuplicateBytes {
			counter := counterDuplicatesTooLarge
			if len(j.body)+n <= j.dup.MaxBytes {
				counter = counterDuplicatesDropped
			}
			j.stats.incDup(counter, 1)
			s.dropCopy()
			return
		}
		b, err := abi.GetBufferBytesTransient(abi.BufferTypeHTTPRequestBody, j.base, n)
		if err != nil || len(b) != n {
			j.stats.incDup(counterDuplicatesDropped, 1)
			s.dropCopy()
			return
		}
		j.body = append(j.body, b...)
		p.dupBytes += n
	}
	if eos {
		s.finishCopy()
	}
}

// afterBody notes what the body callback answered: a paused (buffered)
// body is seen whole again by the next callback.
func (s *stream) afterBody(a abi.Action, size int) {
	if j := s.dup; j != nil {
		if a == abi.ActionPause {
			j.base = size
		} else {
			j.base = 0
		}
	}
}

// finishCopy hands the complete copy to the root, which sends its first
// copy after the duplicate's after.
func (s *stream) finishCopy() {
	j := s.dup
	s.dup = nil
	j.left = j.dup.Copies
	j.due = now() + int64(j.dup.After)
	s.root.addJob(j, s.cfg.Tick)
}

// dropCopy gives up the stream's copy: the request is not duplicated. The
// filter state says so from now on (the rest of the plan stands).
func (s *stream) dropCopy() {
	s.root.plugin.freeJob(s.dup)
	s.dup = nil
	s.plan.faults &^= config.FaultDuplicate
	s.setState(s.plan.stats.stateValue(injected(s.plan.faults) | s.applied))
}

// dropStoppedCopy gives up the copy of a request the kill switch caught
// while it passed, counting its copies as dropped.
func (s *stream) dropStoppedCopy() {
	s.dup.stats.incDup(counterDuplicatesDropped, int64(s.dup.dup.Copies))
	s.dropCopy()
}

// hopByHop are the request headers a copy leaves out: they describe the
// client's connection to Envoy, not the request (RFC 9110 section 7.6.1,
// and proxy-connection, which old clients send). Envoy's codecs mostly
// drop them before any filter sees them; a copy must never carry them into
// a new connection. content-length is left out because Envoy sets it from
// the body proxy_http_call sends, expect because the copy has its whole
// body and waits for no 100-continue, and every x-nedry-* header because
// control headers never go upstream.
var hopByHop = [...]string{
	"connection", "keep-alive", "proxy-connection", "te", "trailer",
	"transfer-encoding", "upgrade", "content-length", "expect",
}

func copiedHeader(k string) bool {
	if strings.HasPrefix(k, fault.HeaderPrefix) {
		return false
	}
	for _, h := range hopByHop {
		if k == h {
			return false
		}
	}
	return true
}

// appendCopyHeaders serializes the request headers a copy carries (see
// hopByHop), pseudo-headers included (:method, :path, :authority and
// :scheme, which proxy_http_call needs), in proxy-wasm's pairs format, into
// dst[:0].
func appendCopyHeaders(dst []byte, h abi.Pairs) []byte {
	// The count goes first but is known only after the lengths: it is
	// written over a placeholder.
	dst = append(dst[:0], 0, 0, 0, 0)
	n := uint32(0)
	for c := h.Cursor(); ; {
		k, v, ok := c.Next()
		if !ok {
			break
		}
		if copiedHeader(k) {
			n++
			dst = binary.LittleEndian.AppendUint32(dst, uint32(len(k)))
			dst = binary.LittleEndian.AppendUint32(dst, uint32(len(v)))
		}
	}
	binary.LittleEndian.PutUint32(dst, n)
	for c := h.Cursor(); ; {
		k, v, ok := c.Next()
		if !ok {
			break
		}
		if copiedHeader(k) {
			dst = append(dst, k...)
			dst = append(dst, 0)
			dst = append(dst, v...)
			dst = append(dst, 0)
		}
	}
	return dst
}

// newJob returns a cleared job, reusing a finished one.
func (p *Plugin) newJob() *dupJob {
	if n := len(p.dupFree); n > 0 {
		j := p.dupFree[n-1]
		p.dupFree[n-1] = nil
		p.dupFree = p.dupFree[:n-1]
		return j
	}
	return new(dupJob)
}

// freeJob releases a job's share of the VM's bounds and keeps it for reuse,
// without buffers past keepJobBytes (a 1 MiB body is not kept for good).
func (p *Plugin) freeJob(j *dupJob) {
	p.dupJobs--
	p.dupBytes -= len(j.headers) + len(j.body)
	j.stats, j.dup, j.left, j.due, j.base = nil, nil, 0, 0, 0
	j.cluster, j.headers, j.body = j.cluster[:0], j.headers[:0], j.body[:0]
	if cap(j.body) > keepJobBytes {
		j.body = nil
	}
	if cap(j.headers) > keepJobBytes {
		j.headers = nil
	}
	if len(p.dupFree) < maxDuplicateJobs {
		p.dupFree = append(p.dupFree, j)
	}
}

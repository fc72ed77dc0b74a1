package plugin

import (
	"time"

	"github.com/nedry-chaos/nedry/filter/internal/abi"
)

// The root context's side of duplicated requests: it keeps the complete
// copies until they are due, sends them from proxy_on_tick and counts
// their answers. A root Envoy retires (a configuration push) keeps doing so
// until its last copy is sent and answered: it answers proxy_on_done false
// meanwhile and calls proxy_done once idle, as cpp-host allows (WasmBase
// keeps such a root in pending_done_, ticks and calls included, until
// proxy_done). Deleting it earlier would cancel its calls (Envoy's Context
// destructor cancels the calls a context owns) and lose its copies.

// dupState is a root's duplicated requests.
type dupState struct {
	// jobs are the copies waiting to be sent, in no order: a tick looks at
	// every one, and maxDuplicateJobs bounds them.
	jobs []*dupJob
	// calls are the calls in flight, in no order. A slice, not a map: at
	// most maxDuplicateCalls, looked up once per answer, and a map type of
	// its own added some 40 KB of code to the module.
	calls []dupCall
	// draining is set once proxy_on_done answered false.
	draining bool
}

// dupCall is a copy's call in flight.
type dupCall struct {
	token uint32
	stats *ruleStats
}

// addJob takes a complete copy from a stream of this root and makes sure
// the tick runs to send it.
func (r *root) addJob(j *dupJob, tick time.Duration) {
	r.dup.jobs = append(r.dup.jobs, j)
	r.ensureTick(tick)
}

// sendDue sends every copy due at t (monotonic), and forgets the jobs that
// have none left.
func (r *root) sendDue(t int64) {
	if len(r.dup.jobs) == 0 {
		return
	}
	p := r.plugin
	kept := r.dup.jobs[:0]
	for _, j := range r.dup.jobs {
		for j.left > 0 && j.due <= t {
			r.sendCopy(j)
			j.left--
			j.due += int64(j.dup.After)
		}
		if j.left == 0 {
			p.freeJob(j)
			continue
		}
		kept = append(kept, j)
	}
	clear(r.dup.jobs[len(kept):])
	r.dup.jobs = kept
}

// sendCopy makes one copy's call. A call the host refuses (an unknown
// cluster is BadArgument in Envoy) failed; one past maxDuplicateCalls in
// flight is dropped.
func (r *root) sendCopy(j *dupJob) {
	st, p := j.stats, r.plugin
	if p.dupCalls >= maxDuplicateCalls {
		st.incDup(counterDuplicatesDropped, 1)
		return
	}
	token, err := abi.HTTPCall(j.cluster, j.headers, j.body, j.dup.Timeout)
	if err != nil {
		st.incDup(counterDuplicatesFailed, 1)
		return
	}
	st.incDup(counterDuplicatesSent, 1)
	r.dup.calls = append(r.dup.calls, dupCall{token, st})
	p.dupCalls++
}

// OnHTTPCallResponse counts the answer to a copy and discards it: a reset
// (no headers), a timeout (Envoy answers 504) or any status of 500 and up
// failed.
func (r *root) OnHTTPCallResponse(token uint32, numHeaders, _, _ int) {
	i := 0
	for i < len(r.dup.calls) && r.dup.calls[i].token != token {
		i++
	}
	if i == len(r.dup.calls) {
		return
	}
	st := r.dup.calls[i].stats
	last := len(r.dup.calls) - 1
	r.dup.calls[i] = r.dup.calls[last]
	r.dup.calls[last] = dupCall{}
	r.dup.calls = r.dup.calls[:last]
	r.plugin.dupCalls--
	if numHeaders == 0 || !callSucceeded() {
		st.incDup(counterDuplicatesFailed, 1)
	}
	r.maybeDone()
}

// callSucceeded reads the :status of the call response being delivered:
// three digits below 500 (Envoy's statuses always have three).
func callSucceeded() bool {
	v, err := abi.GetHeaderMapValueTransient(abi.MapTypeHTTPCallResponseHeaders, ":status")
	if err != nil {
		return false
	}
	return len(v) == 3 && v[0] >= '1' && v[0] <= '4'
}

// busy reports whether the root still has copies to send or answers to
// wait for.
func (r *root) busy() bool { return len(r.dup.jobs) > 0 || len(r.dup.calls) > 0 }

// maybeDone tells the host that a retired root waiting for its copies is
// finished. It runs in the root's own callbacks (tick, call response), so
// proxy_done finds it.
func (r *root) maybeDone() {
	if r.dup.draining && !r.busy() {
		r.dup.draining = false
		_ = abi.Done()
	}
}

// dropDuplicates forgets every copy not sent yet, in every root: the kill
// switch injects nothing more. Calls in flight cannot be taken back; their
// answers are still counted.
func (p *Plugin) dropDuplicates() {
	for _, r := range p.roots {
		for _, j := range r.dup.jobs {
			j.stats.incDup(counterDuplicatesDropped, int64(j.left))
			p.freeJob(j)
		}
		clear(r.dup.jobs)
		r.dup.jobs = r.dup.jobs[:0]
	}
}

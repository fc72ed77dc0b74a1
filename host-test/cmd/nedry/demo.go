package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// Request headers that make the --demo upstream degrade, so a guardrail
// (and a ramp finding a breaking point) can be watched against it. They
// reach the demo as any header does, and the echo shows them.
const (
	// demoErrorPercent: answer 503 to this percentage (0-100) of the
	// requests that carry it, spread evenly: on demand.
	demoErrorPercent = "x-demo-error-percent"
	// demoLatency: wait this long (a Go duration, at most demoMaxLatency)
	// before answering: on demand.
	demoLatency = "x-demo-latency"
	// demoBreaksAt: answer 503 while Nedry failed (aborted or reset) more
	// than this percentage of the requests its rules matched over the last
	// demoWindow: a service that absorbs that much failure and no more,
	// degrading under injected load.
	demoBreaksAt = "x-demo-breaks-at"
)

const (
	demoMaxLatency = 10 * time.Second
	demoWindow     = 5 * time.Second
	demoSampleGap  = time.Second
)

// demoService is the built-in upstream of --demo: it echoes the request
// (demoReply) unless one of the x-demo-* headers makes it fail or wait, and
// says when it processed the same request before (demoRepeats).
// metrics reads the filter's counters; it is set once the host runs.
type demoService struct {
	metrics func() map[string]hosttest.Metric
	now     func() time.Time

	mu      sync.Mutex
	seq     uint64       // requests with x-demo-error-percent so far
	samples []demoSample // counter readings, oldest first, within demoWindow
	share   float64      // failed share (percent) over samples, -1 if unknown
	nextAt  time.Time    // when the next sample is due

	repeats demoRepeats
}

// demoSample is one reading of the filter's counters.
type demoSample struct {
	at              time.Time
	failed, matched int64
}

func newDemoService() *demoService { return &demoService{now: time.Now, share: -1} }

// setMetrics gives the demo the filter's counters, once the host runs.
func (d *demoService) setMetrics(m func() map[string]hosttest.Metric) {
	d.mu.Lock()
	d.metrics = m
	d.mu.Unlock()
}

// serve is the hosttest upstream function.
func (d *demoService) serve(ctx context.Context, ur *hosttest.UpstreamRequest) (*hosttest.Response, error) {
	var errPct, breaksAt int = -1, -1
	var latency time.Duration
	for _, kv := range ur.Headers {
		switch kv[0] {
		case demoErrorPercent:
			errPct = demoPercent(kv[1])
		case demoBreaksAt:
			breaksAt = demoPercent(kv[1])
		case demoLatency:
			if v, err := time.ParseDuration(kv[1]); err == nil && v > 0 {
				latency = min(v, demoMaxLatency)
			}
		}
	}
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	if errPct > 0 && d.failNext(errPct) {
		return textResponse(http.StatusServiceUnavailable,
			fmt.Sprintf("nedry-demo: failed on demand (%s: %d)", demoErrorPercent, errPct)), nil
	}
	if breaksAt >= 0 {
		if share := d.failedShare(); share > float64(breaksAt) {
			return textResponse(http.StatusServiceUnavailable,
				fmt.Sprintf("nedry-demo: broken: Nedry failed %.1f%% of the matched requests of the last %s, above the %d%% it absorbs (%s)",
					share, demoWindow, breaksAt, demoBreaksAt)), nil
		}
	}
	if key, idem, ok := repeatKey(ur); ok {
		if n := d.repeats.seen(key, d.now()); n > 0 {
			return demoReply(ur, n, repeatNote(idem, n))
		}
	}
	return demoReply(ur, 0, "")
}

// demoPercent parses a percentage header; an invalid value is ignored (-1).
func demoPercent(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 100 {
		return -1
	}
	return n
}

// failNext reports whether this request is one of the pct percent to fail:
// the n-th fails when floor(n*pct/100) steps up, so any run of 100 requests
// has exactly pct failures.
func (d *demoService) failNext(pct int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seq++
	return d.seq*uint64(pct)/100 != (d.seq-1)*uint64(pct)/100
}

// failedShare returns the percentage of matched requests Nedry failed over
// the last demoWindow, from the filter's counters read at most once per
// demoSampleGap, or -1 before two readings exist.
func (d *demoService) failedShare() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if d.metrics == nil || now.Before(d.nextAt) {
		return d.share
	}
	d.nextAt = now.Add(demoSampleGap)
	kinds, matched := faultTotals(d.metrics())
	d.samples = append(d.samples, demoSample{at: now, failed: kinds[faultAborts] + kinds[faultResets], matched: matched})
	for len(d.samples) > 2 && now.Sub(d.samples[1].at) >= demoWindow {
		d.samples = d.samples[1:]
	}
	d.share = -1
	if first, last := d.samples[0], d.samples[len(d.samples)-1]; last.matched > first.matched {
		d.share = 100 * float64(last.failed-first.failed) / float64(last.matched-first.matched)
	}
	return d.share
}

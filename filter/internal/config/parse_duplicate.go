package config

import (
	"strconv"
	"time"

	"github.com/tidwall/gjson"
)

// Duplicate defaults and bounds.
const (
	// DefaultDuplicateCopies is one copy: the request arrives twice.
	DefaultDuplicateCopies = 1
	// MaxDuplicateCopies bounds copies: a retry storm of ten is plenty to
	// test idempotency, and every copy is a real request upstream.
	MaxDuplicateCopies = 10
	// DefaultDuplicateAfter is the gap before each copy: a client that
	// retries after a short timeout.
	DefaultDuplicateAfter = 50 * time.Millisecond
	// maxDuplicateAfter bounds after: the request and its body stay in guest
	// memory until the last copy is sent.
	maxDuplicateAfter = 5 * time.Minute
	// DefaultDuplicateTimeout is the timeout of each copy's call.
	DefaultDuplicateTimeout = 5 * time.Second
	// maxDuplicateTimeout bounds timeout; a call always has one, so every
	// copy ends and an old configuration's root is not kept forever.
	maxDuplicateTimeout = 5 * time.Minute
	// DefaultDuplicateMaxBytes is the largest request body duplicated
	// unless max_bytes says otherwise.
	DefaultDuplicateMaxBytes = 64 << 10
	// MaxDuplicateMaxBytes bounds max_bytes: the body is kept in guest
	// memory until the last copy went out.
	MaxDuplicateMaxBytes = 1 << 20
)

// Duplicate sends copies of a completed request to the upstream cluster;
// the copies' responses are discarded (see plugin/duplicate.go).
type Duplicate struct {
	PPM uint32
	// Copies is the number of copies, each After later than the previous
	// one, the first After after the original request completed.
	Copies  int
	After   time.Duration
	Timeout time.Duration
	// Cluster is the cluster the copies go to; "" means the stream's own
	// (xds.cluster_name).
	Cluster string
	// MaxBytes is the largest request body copied; a larger request is not
	// duplicated.
	MaxBytes int
}

func (p *parser) duplicate(path string, v gjson.Result) *Duplicate {
	d := &Duplicate{Copies: DefaultDuplicateCopies, After: DefaultDuplicateAfter,
		Timeout: DefaultDuplicateTimeout, MaxBytes: DefaultDuplicateMaxBytes}
	hasPercent := false
	ok := p.object(path, v, func(key, kp string, v gjson.Result) bool {
		switch key {
		case "percent":
			hasPercent = true
			d.PPM, _ = p.percent(kp, v)
		case "copies":
			if n, ok := p.integer(kp, v, 1, MaxDuplicateCopies); ok {
				d.Copies = int(n)
			}
		case "after":
			d.After, _ = p.duration(kp, v, 0, maxDuplicateAfter, "[0s, 5m]")
		case "timeout":
			d.Timeout, _ = p.duration(kp, v, minDuration, maxDuplicateTimeout, "[1ms, 5m]")
		case "cluster":
			if s, ok := p.str(kp, v); ok {
				if s == "" || len(s) > maxHeaderName || !printable(s) {
					p.fail(kp, "must be a cluster name: printable ASCII, 1 to "+strconv.Itoa(maxHeaderName)+" bytes", v)
					break
				}
				d.Cluster = s
			}
		case "max_bytes":
			if n, ok := p.integer(kp, v, 0, MaxDuplicateMaxBytes); ok {
				d.MaxBytes = int(n)
			}
		case "ramp":
			// The ramp machinery schedules the four faults that act on the
			// request itself; a duplicate's rate stays fixed.
			p.failText(kp, "not supported on duplicate: its percent is fixed")
		default:
			return false
		}
		return true
	})
	if ok && !hasPercent {
		p.failText(join(path, "percent"), "required")
	}
	return d
}

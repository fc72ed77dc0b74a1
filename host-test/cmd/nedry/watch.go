package main

import (
	"context"
	"crypto/sha256"
	"os"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// watcher polls the configuration file and pushes each new content through
// Host.Reconfigure, the path an Envoy ECDS push takes. Polling needs no
// dependency and works on every file system, editors' rename-on-save
// included.
//
// A change is detected by content: every poll reads the file and hashes it
// (SHA-256), since a replacement can keep both size and modification time
// (cp -p, rsync -t, tar x). A configuration file is small, so the read costs
// little next to the interval.
//
// A new content is applied only after a second look: when two polls in a
// row, one interval apart, read the same bytes. A read in the middle of a
// non-atomic save (truncate, then write) sees an empty or half-written file
// that the next poll no longer sees, and such a read is never applied, nor
// reported as refused. An empty file is applied too (the filter then serves
// no rules), but only once it stayed empty for that second look. The price
// is one more interval before an edit takes effect.
type watcher struct {
	path     string
	interval time.Duration
	host     *hosttest.Host
	log      *logger

	// applied is the hash of the content last pushed (served, or refused
	// and reported once); pending, when seen, the content read once and
	// waiting for its second look.
	applied, pending [sha256.Size]byte
	seen             bool
	readErr          string
}

// remember records cfg as the content already applied.
func (w *watcher) remember(cfg []byte) {
	w.applied = sha256.Sum256(cfg)
	w.seen = false
}

func (w *watcher) run(ctx context.Context) {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.poll()
		}
	}
}

// poll reads the file once and pushes it when its content changed and the
// previous poll read the same content. A refused push is remembered by hash
// too, so it is reported once, not on every poll, and the previous
// configuration keeps serving.
func (w *watcher) poll() {
	cfg, err := os.ReadFile(w.path)
	if err != nil {
		w.seen = false
		w.reportReadError(err)
		return
	}
	w.readErr = ""
	h := sha256.Sum256(cfg)
	switch {
	case h == w.applied:
		w.seen = false
	case !w.seen || h != w.pending:
		w.pending, w.seen = h, true
	default:
		w.applied, w.seen = h, false
		w.push(cfg)
	}
}

func (w *watcher) reportReadError(err error) {
	if msg := err.Error(); msg != w.readErr {
		w.readErr = msg
		w.log.errorf("%s: cannot read changed config, previous configuration keeps serving: %v", w.path, err)
	}
}

// push applies cfg to every worker, or prints why it was refused.
func (w *watcher) push(cfg []byte) {
	stop := w.log.captureGuest()
	err := w.host.Reconfigure(cfg)
	logs := stop()
	if err != nil {
		w.log.errorf("%s: change refused, previous configuration keeps serving", w.path)
		for _, line := range refusal(err) {
			w.log.errorf("%s: %s", w.path, line)
		}
		return
	}
	w.log.infof("config %s reloaded: %s", w.path, summary(cfg))
	printGuestInfo(w.log, logs)
}

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// watcher polls the configuration file and pushes each new content through
// Host.Reconfigure, the path an Envoy ECDS push takes. Polling (modification
// time and size every interval, content hash when they change) needs no
// dependency and works on every file system, editors' rename-on-save
// included.
type watcher struct {
	path     string
	interval time.Duration
	host     *hosttest.Host
	log      *logger

	mod     time.Time
	size    int64
	hash    [sha256.Size]byte
	readErr string
}

// remember records cfg as the content already applied.
func (w *watcher) remember(cfg []byte) {
	w.hash = sha256.Sum256(cfg)
	if fi, err := os.Stat(w.path); err == nil {
		w.mod, w.size = fi.ModTime(), fi.Size()
	}
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

// poll checks the file once and pushes it when its content changed. A
// refused push is remembered by hash too, so it is reported once, not on
// every poll, and the previous configuration keeps serving.
func (w *watcher) poll() {
	fi, err := os.Stat(w.path)
	if err != nil {
		w.reportReadError(err)
		return
	}
	if fi.ModTime().Equal(w.mod) && fi.Size() == w.size && w.readErr == "" {
		return
	}
	cfg, err := os.ReadFile(w.path)
	if err != nil {
		w.reportReadError(err)
		return
	}
	w.readErr = ""
	w.mod, w.size = fi.ModTime(), fi.Size()
	h := sha256.Sum256(cfg)
	if bytes.Equal(h[:], w.hash[:]) {
		return
	}
	w.hash = h
	w.push(cfg)
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

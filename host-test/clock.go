package hosttest

import (
	"time"

	"github.com/nedry-chaos/nedry/host-test/internal/abi"
)

func (h *Host) clock() time.Time {
	if h.opts.RealTime {
		return time.Now()
	}
	return time.Unix(0, h.now.Load()).UTC()
}

// Now is the host clock: virtual unless Options.RealTime.
func (h *Host) Now() time.Time { return h.clock() }

// nextTick finds the earliest tick due at or before limit.
func (h *Host) nextTick(limit time.Time) (w *worker, root *abi.Context, at time.Time) {
	for _, wk := range h.workers {
		wk.mu.Lock()
		if wk.vm.Failed == nil {
			for _, r := range wk.vm.Roots() {
				if r.TickPeriod > 0 && !r.NextTick.After(limit) && (root == nil || r.NextTick.Before(at)) {
					w, root, at = wk, r, r.NextTick
				}
			}
		}
		wk.mu.Unlock()
	}
	return w, root, at
}

// fireTick runs one tick of root on w and applies what the guest asked for.
func (h *Host) fireTick(w *worker, root *abi.Context, at time.Time) {
	w.mu.Lock()
	if w.vm.Context(root.ID) != root || root.TickPeriod == 0 || w.vm.Failed != nil {
		w.mu.Unlock()
		return
	}
	root.NextTick = at.Add(root.TickPeriod)
	if err := w.vm.OnTick(root); err != nil {
		h.vmTrapped(w, err)
	}
	h.applyPending(w)
	h.finishRetired(w)
	w.mu.Unlock()
	h.flush(w, nil)
}

// Advance moves the virtual clock forward by d, firing every due tick of
// every root context of every worker in time order and resuming the streams
// the guest continues. It panics in RealTime mode.
func (h *Host) Advance(d time.Duration) {
	if h.opts.RealTime {
		panic("hosttest: Advance on a RealTime host")
	}
	h.clockMu.Lock()
	defer h.clockMu.Unlock()
	target := h.clock().Add(d)
	for {
		w, root, at := h.nextTick(target)
		// A slow upstream's answer or an HTTP call's answer due before the
		// next tick comes first; at the same instant the tick does, as a
		// timer armed earlier.
		ai, adue := h.nextAnswer(target)
		ci, cdue := h.nextCall(target)
		if ai >= 0 && (root == nil || adue.Before(at)) && (ci < 0 || !cdue.Before(adue)) {
			h.moveClock(adue)
			h.deliverAnswer(ai)
			continue
		}
		if ci >= 0 && (root == nil || cdue.Before(at)) {
			h.moveClock(cdue)
			h.answerCall(ci)
			continue
		}
		if root == nil {
			break
		}
		h.moveClock(at)
		h.fireTick(w, root, at)
	}
	if target.After(h.clock()) {
		h.now.Store(target.UnixNano())
	}
}

// moveClock moves the virtual clock to t unless it is already past it.
func (h *Host) moveClock(t time.Time) {
	if t.After(h.clock()) {
		h.now.Store(t.UnixNano())
	}
}

// wakeTicks tells the real-time tick loop that a tick period changed. It
// never blocks: one pending wake-up is enough.
func (h *Host) wakeTicks() {
	select {
	case h.tickWake <- struct{}{}:
	default:
	}
}

// idleTickWait bounds how long the real-time tick loop sleeps when no tick is
// scheduled; a guest setting a period wakes it at once.
const idleTickWait = time.Second

// tickLoop fires ticks on the wall clock (RealTime mode). It sleeps until the
// earliest scheduled tick of any root context, or until a guest sets a tick
// period, so an idle proxy costs nothing and a busy one never takes the
// worker locks more often than its ticks are due.
func (h *Host) tickLoop() {
	defer h.bg.Done()
	t := time.NewTimer(idleTickWait)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		case <-h.tickWake:
		}
		for {
			w, root, at := h.nextTick(time.Now())
			if root == nil {
				break
			}
			h.fireTick(w, root, at)
		}
		wait := idleTickWait
		if _, root, at := h.nextTick(time.Now().Add(idleTickWait)); root != nil {
			wait = max(time.Until(at), 0)
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(wait)
	}
}

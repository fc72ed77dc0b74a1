package hosttest

// Metrics returns every guest-defined metric by name, aggregated across
// workers.
func (h *Host) Metrics() map[string]Metric {
	out := map[string]Metric{}
	for n, s := range h.metrics.Snapshot() {
		out[n] = Metric{Type: s.Type, Value: s.Value, Histogram: s.Histogram}
	}
	return out
}

// Metric returns one counter or gauge (0 when undefined).
func (h *Host) Metric(name string) int64 { return h.metrics.Value(name) }

// Logs returns the guest logs so far (the most recent 100,000 at most).
func (h *Host) Logs() []LogEntry {
	h.logMu.Lock()
	defer h.logMu.Unlock()
	return append([]LogEntry(nil), h.logs...)
}

// ActiveStreams is the number of streams started and not yet ended.
func (h *Host) ActiveStreams() int { return int(h.active.Load()) }

// PausedStreams is the number of streams currently paused by the plugin.
func (h *Host) PausedStreams() int { return int(h.paused.Load()) }

// Trapped returns every trap seen so far, each with its wasm stack.
func (h *Host) Trapped() []error {
	h.trapMu.Lock()
	defer h.trapMu.Unlock()
	return append([]error(nil), h.traps...)
}

// MemorySize is the guest linear memory size in bytes of a worker's VM.
func (h *Host) MemorySize(worker int) uint32 {
	w := h.workers[worker]
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.vm.MemorySize()
}

// CallExport calls the guest export name, which takes no argument and
// returns one value, on a worker's VM. It is a test hook for debug builds
// (host-test calls nedry_debug_mallocs through it), not an Envoy callback.
func (h *Host) CallExport(worker int, name string) (uint64, error) {
	w := h.workers[worker]
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.vm.CallExport(name)
}

// HostCalls is the total number of hostcalls guests made, validation VMs
// included.
func (h *Host) HostCalls() uint64 {
	n := h.retiredCalls.Load()
	for _, w := range h.workers {
		w.mu.Lock()
		n += w.vm.HostCalls()
		w.mu.Unlock()
	}
	return n
}

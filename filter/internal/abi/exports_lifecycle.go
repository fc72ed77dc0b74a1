//go:build wasip1

package abi

// Lifecycle callbacks. Every export recovers panics and answers the
// fail-open value: a trap would kill the VM for every stream on the worker.
// A stream's creation is only noted, and the end of a stream the plugin
// never saw or let go in its first callback runs no plugin code (see
// pending and Quiet).
// A quiet stream's proxy_on_log and proxy_on_done are answered before the
// recovery is set up (see Quiet); its proxy_on_delete still reaches the
// plugin, which recycles the stream.

// proxy_abi_version_0_2_1 marks the ABI version; Envoy refuses a module
// without such a marker.
//
//go:wasmexport proxy_abi_version_0_2_1
func proxyABIVersion021() {}

//go:wasmexport proxy_on_context_create
func proxyOnContextCreate(contextID, parentID uint32) {
	if parentID != 0 && announceStream(contextID, parentID) {
		return
	}
	enter()
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_context_create", v)
		}
		leave()
	}()
	onContextCreate(contextID, parentID)
}

//go:wasmexport proxy_on_done
func proxyOnDone(contextID uint32) (done uint32) {
	if contextID == lastQuiet || contextID == pending.id || quiet(contextID) {
		return 1
	}
	enter()
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_done", v)
			done = 1
		}
		leave()
	}()
	return boolWord(onDone(contextID))
}

//go:wasmexport proxy_on_log
func proxyOnLog(contextID uint32) {
	if contextID == lastQuiet || contextID == pending.id || quiet(contextID) {
		return
	}
	enter()
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_log", v)
		}
		leave()
	}()
	onLog(contextID)
}

//go:wasmexport proxy_on_delete
func proxyOnDelete(contextID uint32) {
	switch {
	case contextID == pending.id && contextID != 0:
		dropPending()
		return
	case unfiledQuiet(contextID):
		lastQuiet = 0
		return
	}
	enter()
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_delete", v)
		}
		leave()
	}()
	onDelete(contextID)
}

func boolWord(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

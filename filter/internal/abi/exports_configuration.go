//go:build wasip1

package abi

// proxy_on_vm_start. Envoy passes the id of the root context it just
// created; on failure to recover we answer true (fail open), since refusing
// the VM would take the whole filter chain down.
//
//go:wasmexport proxy_on_vm_start
func proxyOnVMStart(contextID, vmConfigSize uint32) (ok uint32) {
	enter()
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_vm_start", v)
			ok = 1
		}
		leave()
	}()
	r := rootOrCreate(contextID)
	if r == nil {
		return 1
	}
	return boolWord(r.OnVMStart(int(vmConfigSize)))
}

// proxy_on_configure. A panic answers true like every other callback, but
// the plugin is expected to return false on any configuration it could not
// fully load.
//
//go:wasmexport proxy_on_configure
func proxyOnConfigure(contextID, pluginConfigSize uint32) (ok uint32) {
	enter()
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_configure", v)
			ok = 1
		}
		leave()
	}()
	r := rootOrCreate(contextID)
	if r == nil {
		return 1
	}
	return boolWord(r.OnConfigure(int(pluginConfigSize)))
}

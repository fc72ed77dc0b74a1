//go:build wasip1

package abi

// proxy_on_tick. Recovered like every callback: a trap here would leave
// every paused stream of the VM hanging.
//
//go:wasmexport proxy_on_tick
func proxyOnTick(contextID uint32) {
	enter()
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_tick", v)
		}
		leave()
	}()
	if r := roots[contextID]; r != nil {
		r.OnTick()
	}
}

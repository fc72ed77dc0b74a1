// Command initcall calls proxy_set_tick_period_milliseconds from init(),
// which Envoy's default runtime forbids during _initialize: the VM must
// never start.
package main

import "github.com/nedry-chaos/nedry/host-test/testdata/guestabi"

func init() {
	guestabi.ProxySetTickPeriodMilliseconds(100)
}

//go:wasmexport proxy_on_configure
func onConfigure(root, size uint32) uint32 { return 1 }

func main() {}

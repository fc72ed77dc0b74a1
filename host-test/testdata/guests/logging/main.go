// Command logging logs at every level, reads the log level and writes to
// stdout and stderr (which Envoy maps to info and error logs).
package main

import (
	"github.com/nedry-chaos/nedry/host-test/testdata/guestabi"
	"os"
)

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	guestabi.Held = guestabi.Held[:0]
	for l := uint32(0); l <= 5; l++ {
		guestabi.Logf(l, "level-"+guestabi.Itoa(int64(l)))
	}
	p, s := guestabi.Ptr("too high")
	st := guestabi.ProxyLog(6, p, s)
	var level uint32
	guestabi.ProxyGetLogLevel(&level)
	guestabi.AddHeader(0, "x-log-level", guestabi.Itoa(int64(level)))
	guestabi.AddHeader(0, "x-log-6", guestabi.Itoa(int64(st)))
	os.Stdout.WriteString("to stdout\n")
	os.Stderr.WriteString("to stderr\n")
	return 0
}

func main() {}

// Command logging logs at every level, reads the log level and writes to
// stdout and stderr (which Envoy maps to info and error logs).
package main

import "os"

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	held = held[:0]
	for l := uint32(0); l <= 5; l++ {
		logf(l, "level-"+itoa(int64(l)))
	}
	p, s := ptr("too high")
	st := proxyLog(6, p, s)
	var level uint32
	proxyGetLogLevel(&level)
	addHeader(0, "x-log-level", itoa(int64(level)))
	addHeader(0, "x-log-6", itoa(int64(st)))
	os.Stdout.WriteString("to stdout\n")
	os.Stderr.WriteString("to stderr\n")
	return 0
}

package main

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// quietAfter is how long a connection must have been without a request
// for shutdown to close it: long enough for the last response of a
// connection that just went idle to be flushed (HTTP/2 reports idle when
// its last stream closes, before the final frames are flushed), short
// next to the waits it saves.
const quietAfter = 50 * time.Millisecond

// connTracker follows the state of the proxy's client connections
// (http.Server.ConnState), so shutdown can close those that carry no
// request at once. http.Server.Shutdown alone waits for them: an idle h2c
// connection closes only a second after its GOAWAY (Go's HTTP/2 server
// lingers for the client to read it), and a connection that sent nothing
// yet counts as busy until it is 5 s old. Either kept an idle nedry run
// from exiting for a second or more.
type connTracker struct {
	mu    sync.Mutex
	conns map[net.Conn]connQuiet
}

// connQuiet is a connection's last state and when it was entered.
type connQuiet struct {
	state http.ConnState
	since time.Time
}

func newConnTracker() *connTracker { return &connTracker{conns: map[net.Conn]connQuiet{}} }

// hook is the http.Server.ConnState function.
func (t *connTracker) hook(c net.Conn, s http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch s {
	case http.StateClosed, http.StateHijacked:
		delete(t.conns, c)
	default:
		t.conns[c] = connQuiet{s, time.Now()}
	}
}

// closeQuiet closes the connections that are new or idle, and have been
// for quietAfter: none has a request in flight.
func (t *connTracker) closeQuiet(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c, q := range t.conns {
		if (q.state == http.StateNew || q.state == http.StateIdle) && now.Sub(q.since) >= quietAfter {
			_ = c.Close()
			delete(t.conns, c)
		}
	}
}

// shutdown is srv.Shutdown(ctx) that also closes quiet connections as they
// become quiet, so it returns once the requests in flight are done rather
// than when Go's own waits for idle connections end.
func (t *connTracker) shutdown(ctx context.Context, srv *http.Server) error {
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	tick := time.NewTicker(quietAfter / 2)
	defer tick.Stop()
	t.closeQuiet(time.Now())
	for {
		select {
		case err := <-done:
			return err
		case now := <-tick.C:
			t.closeQuiet(now)
		}
	}
}

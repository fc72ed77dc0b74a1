package main

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// The limits of nedry run that Envoy has in some form and a chaos proxy
// must have too, since it buffers whole bodies: a memory budget for the
// bodies in flight, a connection limit, and read timeouts on request
// bodies. Each is a flag (see usage).

var (
	// errTooLarge: a body is larger than --max-body.
	errTooLarge = errors.New("body too large")
	// errOverloaded: buffering a body would exceed --max-buffered.
	errOverloaded = errors.New("buffered bodies at their limit")
)

// bodyCopies is how many bytes of memory one byte of body nedry buffers
// stands for while its request is in flight: nedry's own buffer and the
// harness's copies of it (the guest's view of the body, the request the
// upstream gets, and the copy handed to the upstream function). Measured:
// 20 concurrent 16 MB uploads took 60 MB of RSS each. The budget charges
// bodies at this rate so --max-buffered bounds memory, not one copy of it;
// a harness that copies less makes the bound only safer.
const bodyCopies = 4

// budget bounds the memory the bodies of all requests in flight take
// (--max-buffered, charged at bodyCopies per buffered byte), so concurrent
// large uploads cannot take the process's memory. Over budget, a request is
// answered 503 at once, as Envoy's overload manager answers when its heap
// limit is hit, rather than queued. A nil budget has no limit.
type budget struct {
	limit int64
	used  atomic.Int64
}

// take reserves n bytes, or reports that they would exceed the limit.
func (b *budget) take(n int64) bool {
	if b == nil || n <= 0 {
		return true
	}
	for {
		u := b.used.Load()
		if u+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (b *budget) give(n int64) {
	if b != nil && n > 0 {
		b.used.Add(-n)
	}
}

// charge is what one request holds of the budget: its request body and
// the upstream response body, bodyCopies times. It is released when the
// request ends.
type charge struct {
	b *budget
	n atomic.Int64
}

func (c *charge) take(n int64) bool {
	if c == nil {
		return true
	}
	n *= bodyCopies
	if !c.b.take(n) {
		return false
	}
	c.n.Add(n)
	return true
}

func (c *charge) release() {
	if c != nil {
		c.b.give(c.n.Swap(0))
	}
}

type chargeKey struct{}

// withCharge lets the upstream exchange, which runs inside the harness,
// charge the response body to the request.
func withCharge(ctx context.Context, c *charge) context.Context {
	return context.WithValue(ctx, chargeKey{}, c)
}

func chargeOf(ctx context.Context) *charge {
	c, _ := ctx.Value(chargeKey{}).(*charge)
	return c
}

// readBody reads all of r into one buffer charged to c. A known size
// (Content-Length) is allocated once, exactly; an unknown one grows by
// doubling from 32 KiB, never past limit+1. Either way there is no second
// copy: io.ReadAll's growth would hold up to twice the body meanwhile.
// beforeRead, when set, runs before each read (the read deadlines).
func readBody(r io.Reader, size, limit int64, c *charge, beforeRead func()) ([]byte, error) {
	if size > limit {
		return nil, errTooLarge
	}
	initial := size
	if size < 0 {
		initial = min(32<<10, limit+1)
	}
	if !c.take(initial) {
		return nil, errOverloaded
	}
	buf := make([]byte, 0, initial)
	for {
		if size >= 0 && int64(len(buf)) == size {
			return buf, nil
		}
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				return nil, errTooLarge
			}
			grown := min(2*int64(cap(buf)), limit+1)
			if !c.take(grown - int64(cap(buf))) {
				return nil, errOverloaded
			}
			buf = append(make([]byte, 0, grown), buf...)
		}
		if beforeRead != nil {
			beforeRead()
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case errors.Is(err, io.EOF):
			if int64(len(buf)) > limit {
				return nil, errTooLarge
			}
			return buf, nil
		case err != nil:
			return nil, err
		}
	}
}

// limitListener closes, right after accepting it, every connection beyond
// max open ones (--max-connections), as Envoy does past its
// global_downstream_max_connections, and calls overflow for each.
type limitListener struct {
	net.Listener
	open     chan struct{}
	overflow func()
}

func newLimitListener(ln net.Listener, max int, overflow func()) *limitListener {
	return &limitListener{Listener: ln, open: make(chan struct{}, max), overflow: overflow}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.open <- struct{}{}:
			return &limitConn{Conn: c, l: l}, nil
		default:
			_ = c.Close()
			l.overflow()
		}
	}
}

// limitConn gives its place back when closed, once, however it is closed
// (by the server, or after a hijack by resetStream).
type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { <-c.l.open })
	return err
}

// SetLinger reaches the TCP connection, for resetStream's abortive close.
func (c *limitConn) SetLinger(sec int) error {
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		return tc.SetLinger(sec)
	}
	return nil
}

// everySecond returns a function that calls f with the number of calls
// since f last ran, at most once per second: a flood of refused
// connections becomes one log line per second.
func everySecond(f func(n int64)) func() {
	var (
		mu      sync.Mutex
		last    time.Time
		pending int64
	)
	return func() {
		mu.Lock()
		defer mu.Unlock()
		pending++
		if now := time.Now(); now.Sub(last) >= time.Second {
			last = now
			f(pending)
			pending = 0
		}
	}
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// upstreamFunc answers a request that reached the upstream.
type upstreamFunc = func(ctx context.Context, req *hosttest.UpstreamRequest) (*hosttest.Response, error)

// proxy is the HTTP handler of nedry run: every request becomes a hosttest
// stream, so the filter sees it exactly as Envoy would hand it over, and the
// stream's Result is written back to the client.
type proxy struct {
	// host runs the filter; nil makes a plain reverse proxy with the same
	// request and response handling (the benchmark's baseline).
	host     *hosttest.Host
	upstream upstreamFunc
	routes   routeTable
	// vhost and cluster answer xds.virtual_host_name and xds.cluster_name.
	vhost, cluster string
	maxBody        int64
	// budget bounds the bodies all requests buffer (--max-buffered); nil
	// means no bound.
	budget *budget
	// requestTimeout bounds receiving a request body (--request-timeout),
	// idleTimeout each wait for its next bytes (--stream-idle-timeout);
	// zero disables either.
	requestTimeout, idleTimeout time.Duration
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &charge{b: p.budget}
	defer c.release()
	ctx := withCharge(r.Context(), c)
	body, ok := p.readRequestBody(w, r, c)
	if !ok {
		return
	}
	headers, reqID := requestHeaders(r)
	trailers := headerPairs(r.Trailer, nil)
	if p.host == nil {
		resp, err := p.upstream(ctx, &hosttest.UpstreamRequest{Headers: headers, Body: body, Trailers: trailers})
		if err != nil {
			http.Error(w, "nedry: upstream: "+err.Error(), http.StatusBadGateway)
			return
		}
		writeResponse(w, resp, r.Method == http.MethodHead)
		return
	}
	req := hosttest.Request{
		Headers:  headers,
		Body:     body,
		Trailers: trailers,
		// Only what differs per request; the virtual host and cluster
		// names are the host's default properties (see hostProperties),
		// which keeps this map, copied again by the host, small.
		Properties: map[string]string{
			// The raw :path, as Envoy's route table matches it (its
			// normalize_path is false by default): /%61dmin is not /admin.
			"xds.route_name": p.routes.match(rawPath(r), r.Header.Get("Content-Type")),
			"source.address": r.RemoteAddr,
			"request.id":     reqID,
		},
		Upstream: p.upstream,
	}
	// Run resets the stream when the client goes away (or the server shuts
	// down hard), so a paused request is dropped as Envoy does on a
	// downstream reset, and it cancels the upstream exchange too.
	res, err := p.host.Run(ctx, req)
	if err != nil {
		return
	}
	switch {
	case res.Reset:
		resetStream(w, r)
	case res.Response == nil:
		http.Error(w, "nedry: no response from the filter", http.StatusBadGateway)
	default:
		writeResponse(w, res.Response, r.Method == http.MethodHead)
	}
}

// readRequestBody reads the whole request body into memory charged to c,
// under the read timeouts, or answers the client why not: 413 past
// --max-body, 503 past --max-buffered, 408 after a timeout, as Envoy answers
// its request_timeout and stream_idle_timeout. It reports whether the
// request goes on.
func (p *proxy) readRequestBody(w http.ResponseWriter, r *http.Request, c *charge) ([]byte, bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, true
	}
	rc := http.NewResponseController(w)
	var (
		start       = time.Now()
		idleExpired bool
		beforeRead  func()
	)
	if p.requestTimeout > 0 || p.idleTimeout > 0 {
		beforeRead = func() {
			var d time.Time
			if p.requestTimeout > 0 {
				d = start.Add(p.requestTimeout)
			}
			if p.idleTimeout > 0 {
				if idle := time.Now().Add(p.idleTimeout); d.IsZero() || idle.Before(d) {
					d, idleExpired = idle, true
				} else {
					idleExpired = false
				}
			}
			_ = rc.SetReadDeadline(d)
		}
	}
	body, err := readBody(r.Body, r.ContentLength, p.maxBody, c, beforeRead)
	if err == nil {
		if beforeRead != nil {
			// The body is all read: the response may take as long as the
			// filter holds it. After an error the deadline stays, so
			// net/http's drain of an unread body cannot wait for ever.
			_ = rc.SetReadDeadline(time.Time{})
		}
		return body, true
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// The rest of the body will not come: this connection is done.
		w.Header().Set("Connection", "close")
	}
	switch {
	case errors.Is(err, errTooLarge):
		http.Error(w, "nedry: request body larger than --max-body "+strconv.FormatInt(p.maxBody, 10)+" bytes", http.StatusRequestEntityTooLarge)
	case errors.Is(err, errOverloaded):
		http.Error(w, "nedry: overloaded: buffered bodies at --max-buffered "+strconv.FormatInt(p.budget.limit, 10)+" bytes", http.StatusServiceUnavailable)
	case errors.Is(err, os.ErrDeadlineExceeded) && idleExpired:
		http.Error(w, "nedry: request body: no bytes for --stream-idle-timeout "+p.idleTimeout.String(), http.StatusRequestTimeout)
	case errors.Is(err, os.ErrDeadlineExceeded):
		http.Error(w, "nedry: request body not received within --request-timeout "+p.requestTimeout.String(), http.StatusRequestTimeout)
	}
	// Otherwise the client went away mid-body; there is nobody to answer.
	return nil, false
}

// hostProperties are the properties every request of p carries, given to
// the host once as Options.Properties rather than per request.
func (p *proxy) hostProperties() map[string]string {
	return map[string]string{
		"xds.virtual_host_name": p.vhost,
		"xds.cluster_name":      p.cluster,
	}
}

// requestHeaders builds the header map Envoy would hand the filter: pseudo
// headers first, then the request's headers lowercased, without hop-by-hop
// headers. Go does not keep the client's header order, so names are sorted to
// keep what the filter sees deterministic. As Envoy does by default, a
// request without x-request-id gets a fresh one; it is also the request.id
// property.
func requestHeaders(r *http.Request) ([][2]string, string) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	path := rawPath(r)
	h := make([][2]string, 0, 5+len(r.Header))
	h = append(h, [2]string{":authority", r.Host}, [2]string{":path", path},
		[2]string{":method", r.Method}, [2]string{":scheme", scheme})
	names := make([]string, 0, len(r.Header))
	for k := range r.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	reqID := ""
	for _, k := range names {
		lk := strings.ToLower(k)
		if hopByHop[lk] || lk == "host" {
			continue
		}
		for _, v := range r.Header[k] {
			h = append(h, [2]string{lk, v})
		}
		if lk == "x-request-id" {
			reqID = r.Header[k][0]
		}
	}
	if reqID == "" {
		reqID = newRequestID()
		h = append(h, [2]string{"x-request-id", reqID})
	}
	return h, reqID
}

// rawPath is the :path Envoy hands the filter: the request target exactly as
// the client sent it, percent-encoding included (Envoy decodes nothing by
// default, and net/http's r.URL.Path is decoded). An absolute-form target
// (RFC 9112, section 3.2.2) keeps only its path and query, as Envoy's codec
// does; "*" (OPTIONS *) stays "*".
func rawPath(r *http.Request) string {
	t := r.RequestURI
	if strings.HasPrefix(t, "/") || t == "*" {
		return t
	}
	if _, rest, ok := strings.Cut(t, "://"); ok {
		if i := strings.IndexAny(rest, "/?"); i >= 0 {
			if rest[i] == '?' {
				return "/" + rest[i:]
			}
			return rest[i:]
		}
	}
	return "/"
}

// newRequestID returns a random UUID (version 4), the form Envoy generates.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// resetStream makes the client see a dropped stream, as after Envoy's
// stream reset: HTTP/2 resets only this stream (net/http sends RST_STREAM
// when a handler panics with ErrAbortHandler); HTTP/1.1 has no stream
// reset, so the connection is closed abortively (RST, no response).
func resetStream(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor >= 2 {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	// A *net.TCPConn, or the limitListener's conn around one.
	if lc, ok := conn.(interface{ SetLinger(int) error }); ok {
		_ = lc.SetLinger(0)
	}
	_ = conn.Close()
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

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
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, p.maxBody+1))
	if err != nil {
		// The client went away mid-body; there is nobody to answer.
		return
	}
	if int64(len(body)) > p.maxBody {
		http.Error(w, "nedry: request body larger than "+strconv.FormatInt(p.maxBody, 10)+" bytes", http.StatusRequestEntityTooLarge)
		return
	}
	headers, reqID := requestHeaders(r)
	trailers := headerPairs(r.Trailer, nil)
	if p.host == nil {
		resp, err := p.upstream(r.Context(), &hosttest.UpstreamRequest{Headers: headers, Body: body, Trailers: trailers})
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
			"xds.route_name": p.routes.match(rawPath(r)),
			"source.address": r.RemoteAddr,
			"request.id":     reqID,
		},
		Upstream: p.upstream,
	}
	// Run resets the stream when the client goes away (or the server shuts
	// down hard), so a paused request is dropped as Envoy does on a
	// downstream reset, and it cancels the upstream exchange too.
	res, err := p.host.Run(r.Context(), req)
	if err != nil {
		return
	}
	switch {
	case res.Reset:
		resetStream(w, r)
	case res.Response == nil:
		http.Error(w, "nedry: no response from the filter", http.StatusBadGateway)
	default:
		if res.LocalReply != nil && res.LocalReply.GRPCStatus >= 0 {
			encodeGRPCMessage(res.Response, res.LocalReply.Body)
		}
		writeResponse(w, res.Response, r.Method == http.MethodHead)
	}
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
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// hopByHop lists the connection-level headers a proxy must not forward
// (RFC 9110, section 7.6.1); Envoy drops them too.
var hopByHop = map[string]bool{
	"connection":          true,
	"keep-alive":          true,
	"proxy-connection":    true,
	"proxy-authenticate":  true,
	"proxy-authorization": true,
	"te":                  true,
	"trailer":             true,
	"transfer-encoding":   true,
	"upgrade":             true,
}

// forwarder sends the request, as the filter left it, to the --upstream
// server. Every wait is bounded so a dead upstream becomes a 502 or 504,
// never a hung client.
type forwarder struct {
	base      *url.URL
	transport *http.Transport
	timeout   time.Duration
	maxBody   int64
}

func newForwarder(base *url.URL, timeout time.Duration, maxBody int64) *forwarder {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &forwarder{
		base: base,
		transport: &http.Transport{
			DialContext:           d.DialContext,
			MaxIdleConns:          1024,
			MaxIdleConnsPerHost:   256,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: timeout,
			// The filter sees the body the client sent; transparent gzip
			// would change what the client receives.
			DisableCompression: true,
		},
		timeout: timeout,
		maxBody: maxBody,
	}
}

// close drops idle upstream connections.
func (f *forwarder) close() { f.transport.CloseIdleConnections() }

// roundTrip is the hosttest upstream function: it forwards ur and returns
// what the upstream answered, or a 502/504 reply naming the failure. It
// never returns an error, so a failed upstream looks to the filter and the
// client as Envoy's own upstream failure replies do.
func (f *forwarder) roundTrip(ctx context.Context, ur *hosttest.UpstreamRequest) (*hosttest.Response, error) {
	resp, err := f.exchange(ctx, ur)
	var bad badRequest
	switch {
	case err == nil:
		return resp, nil
	case errors.As(err, &bad):
		return textResponse(http.StatusBadGateway, "nedry: bad upstream request: "+bad.error.Error()), nil
	case errors.Is(err, errTooLarge):
		return textResponse(http.StatusBadGateway, fmt.Sprintf("nedry: upstream %s response body larger than --max-body %d bytes", f.base.Host, f.maxBody)), nil
	case errors.Is(err, errOverloaded):
		return textResponse(http.StatusServiceUnavailable, fmt.Sprintf("nedry: overloaded: buffered bodies at --max-buffered %d bytes", chargeOf(ctx).b.limit)), nil
	}
	return f.failure(err), nil
}

// badRequest: the filter's headers make no HTTP request.
type badRequest struct{ error }

// exchange sends ur to the upstream within f's timeout (and ctx's) and
// reads the response body under --max-body, charged to ctx's charge. Its
// errors are the transport's, errTooLarge, errOverloaded or a badRequest.
func (f *forwarder) exchange(ctx context.Context, ur *hosttest.UpstreamRequest) (*hosttest.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := f.newRequest(ctx, ur)
	if err != nil {
		return nil, badRequest{err}
	}
	resp, err := f.transport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := readBody(resp.Body, resp.ContentLength, f.maxBody, chargeOf(ctx), nil)
	if err != nil {
		return nil, err
	}
	return &hosttest.Response{
		Status:   resp.StatusCode,
		Headers:  headerPairs(resp.Header, nil),
		Body:     body,
		Trailers: headerPairs(resp.Trailer, nil),
	}, nil
}

// newRequest turns the header map the filter produced back into an
// outgoing request: pseudo headers give method and path, the rest are
// copied without hop-by-hop headers. The :authority is kept as Host, as
// Envoy does without a host rewrite.
func (f *forwarder) newRequest(ctx context.Context, ur *hosttest.UpstreamRequest) (*http.Request, error) {
	method, path, authority := http.MethodGet, "/", f.base.Host
	h := make(http.Header, len(ur.Headers))
	for _, kv := range ur.Headers {
		switch k := kv[0]; {
		case k == ":method":
			method = kv[1]
		case k == ":path":
			path = kv[1]
		case k == ":authority":
			authority = kv[1]
		case k == "host":
			// Envoy's HTTP/1.1 codec writes :authority as Host and then
			// every other header, so a host header the filter left goes
			// out as a second line, for the upstream to judge (RFC 9112
			// says refuse). net/http writes the Host it makes from
			// :authority and skips a "Host" key, but writes a lowercase
			// key as it is. (Its HTTP/2 transport drops the line.)
			h["host"] = append(h["host"], kv[1])
		case strings.HasPrefix(k, ":"), hopByHop[k], k == "content-length":
		default:
			h[http.CanonicalHeaderKey(k)] = append(h[http.CanonicalHeaderKey(k)], kv[1])
		}
	}
	if _, ok := h["User-Agent"]; !ok {
		// Present but empty: net/http then sends none instead of its own
		// Go-http-client/1.1. Envoy adds no user-agent to a request.
		h["User-Agent"] = nil
	}
	req, err := http.NewRequestWithContext(ctx, method, f.base.String(), bytes.NewReader(ur.Body))
	if err != nil {
		return nil, err
	}
	req.URL = f.target(path)
	req.Header = h
	req.Host = authority
	req.ContentLength = int64(len(ur.Body))
	if len(ur.Body) == 0 && (method == http.MethodGet || method == http.MethodHead) {
		req.Body = http.NoBody
	}
	if len(ur.Trailers) > 0 {
		// Trailers need a chunked body.
		req.ContentLength = -1
		req.Trailer = make(http.Header, len(ur.Trailers))
		for _, kv := range ur.Trailers {
			req.Trailer.Add(kv[0], kv[1])
		}
	}
	return req, nil
}

// target is the URL whose request line carries path byte for byte: the
// upstream must see exactly the :path the filter left, and url.URL would
// decode and re-escape it (a%20b becoming a%2520b). Opaque is written as it
// is, except that a value starting with // would be taken for an authority
// (RequestURI prefixes the scheme); such a path goes as Path plus RawPath
// when net/http keeps RawPath verbatim, else in absolute form
// (http://host//…, which servers must accept, RFC 9112 section 3.2.2) with
// the path still unchanged. The --upstream URL's own path, if any, is
// prepended as written.
func (f *forwarder) target(path string) *url.URL {
	p, q, hasQuery := strings.Cut(path, "?")
	p = strings.TrimSuffix(f.base.EscapedPath(), "/") + p
	u := &url.URL{Scheme: f.base.Scheme, Host: f.base.Host, RawQuery: q, ForceQuery: hasQuery && q == ""}
	if !strings.HasPrefix(p, "//") {
		u.Opaque = p
		return u
	}
	if dec, err := url.PathUnescape(p); err == nil {
		u.Path, u.RawPath = dec, p
		if u.EscapedPath() == p {
			return u
		}
		u.Path, u.RawPath = "", ""
	}
	u.Opaque = "//" + f.base.Host + p
	return u
}

// failure turns a transport error into the reply the client gets: 504 for a
// timeout, 502 otherwise, with a body that says what went wrong in one line.
func (f *forwarder) failure(err error) *hosttest.Response {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return textResponse(http.StatusGatewayTimeout, fmt.Sprintf("nedry: upstream %s timed out after %s", f.base.Host, f.timeout))
	case errors.Is(err, syscall.ECONNREFUSED):
		return textResponse(http.StatusBadGateway, fmt.Sprintf("nedry: upstream %s unreachable: connection refused", f.base.Host))
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return textResponse(http.StatusBadGateway, fmt.Sprintf("nedry: upstream %s unreachable: %v", f.base.Host, oe.Err))
	}
	return textResponse(http.StatusBadGateway, fmt.Sprintf("nedry: upstream %s failed: %v", f.base.Host, err))
}

// textResponse is a plain-text reply made by nedry itself.
func textResponse(status int, msg string) *hosttest.Response {
	return &hosttest.Response{
		Status: status,
		Headers: [][2]string{
			{"content-type", "text/plain; charset=utf-8"},
			{"content-length", strconv.Itoa(len(msg) + 1)},
		},
		Body: []byte(msg + "\n"),
	}
}

// headerPairs appends h to dst as lowercase name/value pairs, the form
// Envoy hands to filters, without hop-by-hop headers.
func headerPairs(h http.Header, dst [][2]string) [][2]string {
	for k, vs := range h {
		lk := strings.ToLower(k)
		if hopByHop[lk] {
			continue
		}
		for _, v := range vs {
			dst = append(dst, [2]string{lk, v})
		}
	}
	return dst
}

// demoEcho is what the --demo upstream answers: the request as it arrived,
// so faults applied to the request are visible to the client.
type demoEcho struct {
	Upstream  string              `json:"upstream"`
	Method    string              `json:"method"`
	Path      string              `json:"path"`
	Authority string              `json:"authority"`
	Headers   map[string][]string `json:"headers"`
	BodyBytes int                 `json:"body_bytes"`
	// Repeat and Note say that the demo had already processed this
	// request (see demoRepeats), and how many times.
	Repeat int    `json:"repeat,omitempty"`
	Note   string `json:"note,omitempty"`
}

// demoReply is what the built-in upstream of --demo answers when it does
// not fail: the echo of method, path and headers as JSON, with the repeat
// count of a request it already processed (and the x-demo-repeat header).
func demoReply(ur *hosttest.UpstreamRequest, repeat int, note string) (*hosttest.Response, error) {
	e := demoEcho{Upstream: "nedry-demo", Headers: make(map[string][]string, len(ur.Headers)), BodyBytes: len(ur.Body),
		Repeat: repeat, Note: note}
	for _, kv := range ur.Headers {
		switch kv[0] {
		case ":method":
			e.Method = kv[1]
		case ":path":
			e.Path = kv[1]
		case ":authority":
			e.Authority = kv[1]
		}
		if !strings.HasPrefix(kv[0], ":") {
			e.Headers[kv[0]] = append(e.Headers[kv[0]], kv[1])
		}
	}
	body, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return nil, err
	}
	body = append(body, '\n')
	resp := &hosttest.Response{
		Status: http.StatusOK,
		Headers: [][2]string{
			{"content-type", "application/json"},
			{"content-length", strconv.Itoa(len(body))},
			{"server", "nedry-demo"},
		},
		Body: body,
	}
	if repeat > 0 {
		resp.Headers = append(resp.Headers, [2]string{demoRepeat, strconv.Itoa(repeat)})
	}
	return resp, nil
}

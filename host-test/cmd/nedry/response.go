package main

import (
	"net/http"
	"strconv"
	"strings"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// writeResponse writes resp to the client, framed as RFC 9110 and 9112
// require whatever the filter did to it. The status comes from :status when
// the filter left one (a corrupt "status" op rewrites it), else from
// resp.Status; a status that cannot be a final response (outside 200–599: a
// 1xx is informational only) becomes a 502 rather than a panic in net/http.
//
// Framing is nedry's, never the filter's, as in Envoy, whose local replies
// get the content-length of their body and whose connection manager drops
// connection, transfer-encoding and the other hop-by-hop headers from every
// response:
//   - 204 and 304 carry no content and no Content-Length (RFC 9110, sections
//     8.6, 15.3.5 and 15.4.5; an HTTP/2 client refuses a 204 with one);
//   - a response to HEAD carries no content, and the Content-Length the
//     response had (the one a GET would get), else none;
//   - any other response gets the Content-Length of its body, or, with
//     trailers, a chunked (HTTP/1.1) body followed by the trailers, which are
//     declared before the header is written: net/http would otherwise
//     compute a Content-Length for a small body and drop them.
func writeResponse(w http.ResponseWriter, resp *hosttest.Response, head bool) {
	status := resp.Status
	length := ""
	out := w.Header()
	for _, kv := range resp.Headers {
		switch k := kv[0]; {
		case k == ":status":
			if n, err := strconv.Atoi(kv[1]); err == nil {
				status = n
			}
		case k == "content-length":
			// The first: a local reply's own, from its body, comes
			// before any the plugin added, and wins as in Envoy.
			if length == "" {
				length = kv[1]
			}
		case strings.HasPrefix(k, ":"), hopByHop[k]:
		default:
			// Canonical keys, or net/http would not see content-type and
			// would add a sniffed second one.
			ck := http.CanonicalHeaderKey(k)
			out[ck] = append(out[ck], kv[1])
		}
	}
	if _, ok := out["Content-Type"]; !ok {
		// Absent on purpose (the upstream sent none, or a remove op took
		// it): a nil entry stops net/http from sniffing one, as Envoy adds
		// none.
		out["Content-Type"] = nil
	}
	if status < 200 || status > 599 {
		clear(out)
		http.Error(w, "nedry: invalid response status "+strconv.Itoa(status), http.StatusBadGateway)
		return
	}
	switch {
	case status == http.StatusNoContent || status == http.StatusNotModified:
		w.WriteHeader(status)
		return
	case head:
		if isDecimal(length) {
			out["Content-Length"] = []string{length}
		}
		w.WriteHeader(status)
		return
	}
	if len(resp.Trailers) == 0 {
		out["Content-Length"] = []string{strconv.Itoa(len(resp.Body))}
		w.WriteHeader(status)
		_, _ = w.Write(resp.Body)
		return
	}
	trailers := http.Header{}
	for _, kv := range resp.Trailers {
		if hopByHop[kv[0]] || kv[0] == "content-length" {
			continue
		}
		k := http.CanonicalHeaderKey(kv[0])
		trailers[k] = append(trailers[k], kv[1])
	}
	for k := range trailers {
		out.Add("Trailer", k)
	}
	w.WriteHeader(status)
	_, _ = w.Write(resp.Body)
	// The header is written: a declared name now sets its trailer, even one
	// that was also a header.
	for k, vs := range trailers {
		out[k] = vs
	}
}

// isDecimal reports whether s is a valid Content-Length value.
func isDecimal(s string) bool {
	if s == "" || len(s) > 19 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

package abi

import "time"

// HTTPCall sends a request to an upstream cluster of the host
// (proxy_http_call) and returns the call's token; the answer comes to
// proxy_on_http_call_response of the root context (see
// HTTPCallResponder). headers is serialized with AppendPairs and must hold
// :method, :path and :authority; the host sets content-length from body.
// Envoy answers BadArgument for a cluster it does not know or a missing
// pseudo-header. cpp-host makes the call on the root context of the
// current context, whatever context runs: the call outlives a stream that
// made it and is cancelled only when that root context is deleted. A
// timeout of 0 is none; it is rounded down to milliseconds, at least 1.
//
// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_http_call
func HTTPCall(cluster, headers, body []byte, timeout time.Duration) (uint32, error) {
	ms := uint32(timeout / time.Millisecond)
	if timeout > 0 && ms == 0 {
		ms = 1
	}
	err := Status(proxyHTTPCall(sliceData(cluster), uint32(len(cluster)), sliceData(headers), uint32(len(headers)),
		sliceData(body), uint32(len(body)), nil, 0, ms, &out.u32)).Err()
	return out.u32, err
}

// HTTPCallResponder is implemented by a RootContext that makes HTTP calls.
type HTTPCallResponder interface {
	// OnHTTPCallResponse answers proxy_on_http_call_response: the call
	// token ended with numHeaders response headers (readable with
	// MapTypeHTTPCallResponseHeaders during the callback), a body of
	// bodySize bytes and numTrailers trailers. Envoy passes 0, 0, 0 for a
	// call that failed (reset).
	OnHTTPCallResponse(token uint32, numHeaders, bodySize, numTrailers int)
}

// GetBufferBytesTransient is GetBufferBytes into memory the guest reuses:
// the bytes are valid only until the outermost callback running now
// returns. A duplicated request's body chunks are read so, and copied.
func GetBufferBytesTransient(bt BufferType, start, size int) ([]byte, error) {
	arenaArmed = true
	b, err := GetBufferBytes(bt, start, size)
	arenaArmed = false
	return b, err
}

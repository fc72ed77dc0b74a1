//go:build wasip1

package abi

// HTTP stream callbacks. Each recovers panics and then answers Continue, so
// a bug in Nedry lets the request through untouched (fail open). A stream
// the registry does not know (its root refused to create it) continues too,
// and so does a quiet one (see Quiet): both are answered before the
// recovery is set up, since no plugin code runs for them.

//go:wasmexport proxy_on_request_headers
func proxyOnRequestHeaders(contextID, numHeaders, endOfStream uint32) (action uint32) {
	if contextID == lastQuiet {
		return uint32(ActionContinue)
	}
	e := lookupStream(contextID)
	if e.s == nil || e.quiet {
		return uint32(ActionContinue)
	}
	enter()
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_request_headers", v)
			action = uint32(ActionContinue)
		}
		leave()
	}()
	return uint32(e.s.OnRequestHeaders(int(numHeaders), endOfStream != 0))
}

//go:wasmexport proxy_on_request_body
func proxyOnRequestBody(contextID, bodySize, endOfStream uint32) (action uint32) {
	if contextID == lastQuiet {
		return uint32(ActionContinue)
	}
	e := lookupStream(contextID)
	if e.s == nil || e.quiet {
		return uint32(ActionContinue)
	}
	enter()
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_request_body", v)
			action = uint32(ActionContinue)
		}
		leave()
	}()
	return uint32(e.s.OnRequestBody(int(bodySize), endOfStream != 0))
}

//go:wasmexport proxy_on_request_trailers
func proxyOnRequestTrailers(contextID, numTrailers uint32) (action uint32) {
	if contextID == lastQuiet {
		return uint32(ActionContinue)
	}
	e := lookupStream(contextID)
	if e.s == nil || e.quiet {
		return uint32(ActionContinue)
	}
	enter()
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_request_trailers", v)
			action = uint32(ActionContinue)
		}
		leave()
	}()
	return uint32(e.s.OnRequestTrailers(int(numTrailers)))
}

//go:wasmexport proxy_on_response_headers
func proxyOnResponseHeaders(contextID, numHeaders, endOfStream uint32) (action uint32) {
	if contextID == lastQuiet {
		return uint32(ActionContinue)
	}
	e := lookupStream(contextID)
	if e.s == nil || e.quiet {
		return uint32(ActionContinue)
	}
	enter()
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_response_headers", v)
			action = uint32(ActionContinue)
		}
		leave()
	}()
	return uint32(e.s.OnResponseHeaders(int(numHeaders), endOfStream != 0))
}

//go:wasmexport proxy_on_response_body
func proxyOnResponseBody(contextID, bodySize, endOfStream uint32) (action uint32) {
	if contextID == lastQuiet {
		return uint32(ActionContinue)
	}
	e := lookupStream(contextID)
	if e.s == nil || e.quiet {
		return uint32(ActionContinue)
	}
	enter()
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_response_body", v)
			action = uint32(ActionContinue)
		}
		leave()
	}()
	return uint32(e.s.OnResponseBody(int(bodySize), endOfStream != 0))
}

//go:wasmexport proxy_on_response_trailers
func proxyOnResponseTrailers(contextID, numTrailers uint32) (action uint32) {
	if contextID == lastQuiet {
		return uint32(ActionContinue)
	}
	e := lookupStream(contextID)
	if e.s == nil || e.quiet {
		return uint32(ActionContinue)
	}
	enter()
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_response_trailers", v)
			action = uint32(ActionContinue)
		}
		leave()
	}()
	return uint32(e.s.OnResponseTrailers(int(numTrailers)))
}

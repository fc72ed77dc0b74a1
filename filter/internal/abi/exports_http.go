//go:build wasip1

package abi

// HTTP stream callbacks. Each recovers panics and then answers Continue, so
// a bug in Nedry lets the request through untouched (fail open). A stream
// the registry does not know (its root refused to create it) continues too,
// and so does a quiet one (see Quiet): both are answered before the
// recovery is set up, since no plugin code runs for them (see liveStream).
// The first of these callbacks creates the context of a pending stream and
// files it afterwards (see pending).

//go:wasmexport proxy_on_request_headers
func proxyOnRequestHeaders(contextID, numHeaders, endOfStream uint32) (action uint32) {
	if contextID == lastQuiet {
		return uint32(ActionContinue)
	}
	e, ok := liveStream(contextID)
	if !ok {
		return uint32(ActionContinue)
	}
	enter()
	var opened StreamContext
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_request_headers", v)
			action = uint32(ActionContinue)
		}
		if opened != nil {
			fileOpened(contextID, opened)
		}
		leave()
	}()
	s := e.s
	if s == nil {
		if opened = openPending(contextID); opened == nil {
			return uint32(ActionContinue)
		}
		s = opened
	}
	return uint32(s.OnRequestHeaders(int(numHeaders), endOfStream != 0))
}

//go:wasmexport proxy_on_request_body
func proxyOnRequestBody(contextID, bodySize, endOfStream uint32) (action uint32) {
	if contextID == lastQuiet {
		return uint32(ActionContinue)
	}
	e, ok := liveStream(contextID)
	if !ok {
		return uint32(ActionContinue)
	}
	enter()
	var opened StreamContext
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_request_body", v)
			action = uint32(ActionContinue)
		}
		if opened != nil {
			fileOpened(contextID, opened)
		}
		leave()
	}()
	s := e.s
	if s == nil {
		if opened = openPending(contextID); opened == nil {
			return uint32(ActionContinue)
		}
		s = opened
	}
	return uint32(s.OnRequestBody(int(bodySize), endOfStream != 0))
}

//go:wasmexport proxy_on_request_trailers
func proxyOnRequestTrailers(contextID, numTrailers uint32) (action uint32) {
	if numTrailers != 0 && requestTrailersHook != nil {
		runRequestTrailersHook(contextID)
	}
	if contextID == lastQuiet {
		return uint32(ActionContinue)
	}
	e, ok := liveStream(contextID)
	if !ok {
		return uint32(ActionContinue)
	}
	enter()
	var opened StreamContext
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_request_trailers", v)
			action = uint32(ActionContinue)
		}
		if opened != nil {
			fileOpened(contextID, opened)
		}
		leave()
	}()
	s := e.s
	if s == nil {
		if opened = openPending(contextID); opened == nil {
			return uint32(ActionContinue)
		}
		s = opened
	}
	return uint32(s.OnRequestTrailers(int(numTrailers)))
}

//go:wasmexport proxy_on_response_headers
func proxyOnResponseHeaders(contextID, numHeaders, endOfStream uint32) (action uint32) {
	if contextID == lastQuiet {
		return uint32(ActionContinue)
	}
	if contextID == lastWatch.id {
		runWatch(contextID, 0)
		return uint32(ActionContinue)
	}
	e, ok := liveStream(contextID)
	if !ok {
		if e.watch != 0 {
			runWatch(contextID, e.watch)
		}
		return uint32(ActionContinue)
	}
	enter()
	var opened StreamContext
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_response_headers", v)
			action = uint32(ActionContinue)
		}
		if opened != nil {
			fileOpened(contextID, opened)
		}
		leave()
	}()
	s := e.s
	if s == nil {
		if opened = openPending(contextID); opened == nil {
			return uint32(ActionContinue)
		}
		s = opened
	}
	return uint32(s.OnResponseHeaders(int(numHeaders), endOfStream != 0))
}

//go:wasmexport proxy_on_response_body
func proxyOnResponseBody(contextID, bodySize, endOfStream uint32) (action uint32) {
	if contextID == lastQuiet {
		return uint32(ActionContinue)
	}
	e, ok := liveStream(contextID)
	if !ok {
		return uint32(ActionContinue)
	}
	enter()
	var opened StreamContext
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_response_body", v)
			action = uint32(ActionContinue)
		}
		if opened != nil {
			fileOpened(contextID, opened)
		}
		leave()
	}()
	s := e.s
	if s == nil {
		if opened = openPending(contextID); opened == nil {
			return uint32(ActionContinue)
		}
		s = opened
	}
	return uint32(s.OnResponseBody(int(bodySize), endOfStream != 0))
}

//go:wasmexport proxy_on_response_trailers
func proxyOnResponseTrailers(contextID, numTrailers uint32) (action uint32) {
	if contextID == lastQuiet {
		return uint32(ActionContinue)
	}
	e, ok := liveStream(contextID)
	if !ok {
		return uint32(ActionContinue)
	}
	enter()
	var opened StreamContext
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_response_trailers", v)
			action = uint32(ActionContinue)
		}
		if opened != nil {
			fileOpened(contextID, opened)
		}
		leave()
	}()
	s := e.s
	if s == nil {
		if opened = openPending(contextID); opened == nil {
			return uint32(ActionContinue)
		}
		s = opened
	}
	return uint32(s.OnResponseTrailers(int(numTrailers)))
}

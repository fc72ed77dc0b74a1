//go:build wasip1

package abi

// proxy_on_http_call_response, for the root context that made the call
// (cpp-host makes every call on a root context). Recovered like every
// callback.
//
//go:wasmexport proxy_on_http_call_response
func proxyOnHTTPCallResponse(contextID, token, numHeaders, bodySize, numTrailers uint32) {
	enter()
	defer func() {
		if v := recover(); v != nil {
			recovered(contextID, "proxy_on_http_call_response", v)
		}
		leave()
	}()
	if r, ok := roots[contextID].(HTTPCallResponder); ok {
		r.OnHTTPCallResponse(token, int(numHeaders), int(bodySize), int(numTrailers))
	}
}

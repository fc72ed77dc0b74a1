package abi

import (
	"github.com/tetratelabs/wazero/api"
)

// NewStream creates a stream context under root and calls
// proxy_on_context_create(id, root).
func (vm *VM) NewStream(root *Context, reqHeaders [][2]string, props map[string]string) (*Context, error) {
	// Room for the callbacks of a stream without body or trailers
	// (context_create, request and response headers, log, done, delete)
	// and two more: one allocation instead of four growths.
	c := &Context{ID: vm.nextID, Root: root, Props: props, Callbacks: make([]string, 0, 8)}
	vm.nextID++
	c.Maps[MapRequestHeaders] = &HeaderMap{Pairs: reqHeaders}
	vm.contexts[c.ID] = c
	root.Streams++
	if vm.fn.contextCreate != nil {
		c.Callbacks = append(c.Callbacks, "proxy_on_context_create")
		if _, err := vm.call(c, "proxy_on_context_create", vm.fn.contextCreate, uint64(c.ID), uint64(root.ID)); err != nil {
			return c, err
		}
	}
	return c, nil
}

func (vm *VM) streamCall(c *Context, name string, fn api.Function, headers bool, args ...uint64) (Action, error) {
	if fn == nil {
		return ActionContinue, nil
	}
	c.Callbacks = append(c.Callbacks, name)
	vm.stopped = false
	r, err := vm.call(c, name, fn, args...)
	stopped := vm.stopped
	vm.stopped = false
	if err != nil {
		return ActionContinue, err
	}
	return toAction(headers, r, stopped), nil
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// OnRequestHeaders calls proxy_on_request_headers.
func (vm *VM) OnRequestHeaders(c *Context, endOfStream bool) (Action, error) {
	c.Phase = PhaseRequestHeaders
	return vm.streamCall(c, "proxy_on_request_headers", vm.fn.reqHeaders, true,
		uint64(c.ID), uint64(len(c.Maps[MapRequestHeaders].Pairs)), b2u(endOfStream))
}

// OnRequestBody calls proxy_on_request_body with the whole body.
func (vm *VM) OnRequestBody(c *Context, endOfStream bool) (Action, error) {
	c.Phase = PhaseRequestBody
	return vm.streamCall(c, "proxy_on_request_body", vm.fn.reqBody, false,
		uint64(c.ID), uint64(len(c.Bodies[BufferRequestBody])), b2u(endOfStream))
}

// OnRequestTrailers calls proxy_on_request_trailers.
func (vm *VM) OnRequestTrailers(c *Context) (Action, error) {
	c.Phase = PhaseRequestTrailers
	return vm.streamCall(c, "proxy_on_request_trailers", vm.fn.reqTrailers, false,
		uint64(c.ID), uint64(len(c.Maps[MapRequestTrailers].Pairs)))
}

// OnResponseHeaders calls proxy_on_response_headers.
func (vm *VM) OnResponseHeaders(c *Context, endOfStream bool) (Action, error) {
	c.Phase = PhaseResponseHeaders
	return vm.streamCall(c, "proxy_on_response_headers", vm.fn.respHeaders, true,
		uint64(c.ID), uint64(len(c.Maps[MapResponseHeaders].Pairs)), b2u(endOfStream))
}

// OnResponseBody calls proxy_on_response_body with the whole body.
func (vm *VM) OnResponseBody(c *Context, endOfStream bool) (Action, error) {
	c.Phase = PhaseResponseBody
	return vm.streamCall(c, "proxy_on_response_body", vm.fn.respBody, false,
		uint64(c.ID), uint64(len(c.Bodies[BufferResponseBody])), b2u(endOfStream))
}

// OnResponseTrailers calls proxy_on_response_trailers.
func (vm *VM) OnResponseTrailers(c *Context) (Action, error) {
	c.Phase = PhaseResponseTrailers
	return vm.streamCall(c, "proxy_on_response_trailers", vm.fn.respTrailers, false,
		uint64(c.ID), uint64(len(c.Maps[MapResponseTrailers].Pairs)))
}

// EndStream ends a stream as Envoy does: proxy_on_log, proxy_on_done,
// proxy_on_delete, then forgets the context. On a failed VM the calls are
// skipped (cpp-host checks isFailed first).
func (vm *VM) EndStream(c *Context) error {
	if c.Phase == PhaseEnded {
		return nil
	}
	c.Paused = false
	c.Phase = PhaseLog
	var err error
	if vm.Failed == nil && vm.fn.log != nil {
		c.Callbacks = append(c.Callbacks, "proxy_on_log")
		_, err = vm.call(c, "proxy_on_log", vm.fn.log, uint64(c.ID))
	}
	c.Phase = PhaseEnded
	if err == nil {
		_, err = vm.OnDone(c)
	}
	if err == nil {
		err = vm.OnDelete(c)
	}
	delete(vm.contexts, c.ID)
	c.Root.Streams--
	return err
}

// OnDone calls proxy_on_done; a missing export answers true, as in cpp-host.
func (vm *VM) OnDone(c *Context) (bool, error) {
	if vm.Failed != nil || vm.fn.done == nil {
		return true, nil
	}
	c.Callbacks = append(c.Callbacks, "proxy_on_done")
	r, err := vm.call(c, "proxy_on_done", vm.fn.done, uint64(c.ID))
	return uint32(r) != 0, err
}

// OnDelete calls proxy_on_delete.
func (vm *VM) OnDelete(c *Context) error {
	if vm.Failed != nil || vm.fn.delete == nil {
		return nil
	}
	c.Callbacks = append(c.Callbacks, "proxy_on_delete")
	_, err := vm.call(c, "proxy_on_delete", vm.fn.delete, uint64(c.ID))
	return err
}

// OnTick calls proxy_on_tick on a root context.
func (vm *VM) OnTick(root *Context) error {
	if vm.Failed != nil || vm.fn.tick == nil {
		return nil
	}
	_, err := vm.call(root, "proxy_on_tick", vm.fn.tick, uint64(root.ID))
	return err
}

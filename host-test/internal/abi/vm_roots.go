package abi

// TakePending returns the contexts that asked for a continue, close or local
// reply during the last VM calls, for the host to apply now that the call
// returned (cpp-host/Envoy defer these until after the VM call).
//
// The slice is the caller's to read until it is done with it, even while it
// drives streams whose callbacks mark more contexts pending and take them
// in turn (the host applies pending contexts inside its loop over them).
// So marking never writes where a taken slice can see: each taken slice is
// a window of a shared array, the next window starts after it, and a full
// array is left to those still reading it while marking moves on to a new
// one. Cutting windows from one array costs one allocation per
// pendingChunk local replies and continues, not one each.
func (vm *VM) TakePending() []*Context {
	n := len(vm.pending)
	if n == 0 {
		return nil
	}
	p := vm.pending[:n:n]
	vm.pending = vm.pending[n:n]
	return p
}

// pendingChunk is how many contexts one array of pending windows holds. An
// array keeps up to that many taken contexts reachable until marking moves
// on to the next one: a bounded delay for the garbage collector, nothing a
// test can observe.
const pendingChunk = 64

func (vm *VM) markPending(c *Context) {
	for _, p := range vm.pending {
		if p == c {
			return
		}
	}
	if len(vm.pending) == cap(vm.pending) {
		vm.pending = append(make([]*Context, 0, max(pendingChunk, 2*len(vm.pending))), vm.pending...)
	}
	vm.pending = append(vm.pending, c)
}

// retiring reports whether a root was retired and is not deleted yet.
func (vm *VM) retiring() bool {
	for _, r := range vm.roots {
		if r.Retiring {
			return true
		}
	}
	return false
}

// Roots returns the live root contexts, oldest first.
func (vm *VM) Roots() []*Context {
	return append([]*Context(nil), vm.roots...)
}

// forgetRoot removes a root context from the VM's tables.
func (vm *VM) forgetRoot(root *Context) {
	vm.cancelHTTPCalls(root)
	delete(vm.contexts, root.ID)
	for i, r := range vm.roots {
		if r == root {
			vm.roots = append(vm.roots[:i], vm.roots[i+1:]...)
			break
		}
	}
}

// NewRoot creates a root context and starts it as cpp-host's WasmBase::start
// and ContextBase::onStart/onConfigure do: proxy_on_context_create(id, 0),
// proxy_on_vm_start with the VM configuration, then proxy_on_configure with
// the plugin configuration. ok is false when the guest refused.
func (vm *VM) NewRoot(pluginConfig []byte) (root *Context, ok bool, why string, err error) {
	root = &Context{ID: vm.nextID, PluginConfig: append([]byte(nil), pluginConfig...)}
	vm.nextID++
	vm.contexts[root.ID] = root
	vm.roots = append(vm.roots, root)
	if vm.fn.contextCreate != nil {
		if _, err := vm.call(root, "proxy_on_context_create", vm.fn.contextCreate, uint64(root.ID), 0); err != nil {
			return root, false, "trap", err
		}
	}
	if vm.fn.vmStart != nil {
		vm.vmStarting = true
		r, err := vm.call(root, "proxy_on_vm_start", vm.fn.vmStart, uint64(root.ID), uint64(len(vm.vmConfig)))
		vm.vmStarting = false
		if err != nil {
			return root, false, "trap", err
		}
		if uint32(r) == 0 {
			return root, false, "proxy_on_vm_start returned false", nil
		}
	}
	if vm.fn.configure != nil {
		root.configuring = true
		r, err := vm.call(root, "proxy_on_configure", vm.fn.configure, uint64(root.ID), uint64(len(root.PluginConfig)))
		root.configuring = false
		if err != nil {
			return root, false, "trap", err
		}
		if uint32(r) == 0 {
			return root, false, "proxy_on_configure returned false", nil
		}
	}
	return root, true, "", nil
}

// DropRoot removes a root context that was refused or retired, calling
// proxy_on_done and proxy_on_delete unless the VM failed.
func (vm *VM) DropRoot(root *Context) {
	if vm.Failed == nil {
		if _, err := vm.OnDone(root); err == nil {
			_ = vm.OnDelete(root)
		}
	}
	vm.forgetRoot(root)
}

// Retire marks a root replaced by a newer one (Envoy ECDS push).
func (vm *VM) Retire(root *Context) { root.Retiring = true }

// FinishRetired calls proxy_on_done on retiring roots whose streams drained
// and deletes those that answered true or called proxy_done. It returns the
// roots deleted.
func (vm *VM) FinishRetired() (deleted []*Context, err error) {
	if !vm.retiring() {
		// Every stream's end asks: no copy of the roots for the usual no.
		return nil, nil
	}
	for _, r := range vm.Roots() {
		if !r.Retiring || r.Streams > 0 {
			continue
		}
		if r.DoneCalled {
			deleted = append(deleted, r)
			continue
		}
		if r.awaitingDone { // proxy_on_done answered false; wait for proxy_done
			continue
		}
		ok, e := vm.OnDone(r)
		if e != nil {
			return deleted, e
		}
		r.awaitingDone = !ok
		if ok {
			deleted = append(deleted, r)
		}
	}
	for _, r := range deleted {
		r.TickPeriod = 0
		if e := vm.OnDelete(r); e != nil && err == nil {
			err = e
		}
		vm.forgetRoot(r)
	}
	return deleted, err
}

package abi

import (
	"context"
	"fmt"

	"github.com/tetratelabs/wazero"
)

// Register instantiates the host modules (env, wasi_snapshot_preview1,
// wasi_unstable) in rt. Host functions find their VM in the call's context,
// so one instance serves every VM of the runtime.
func Register(ctx context.Context, rt wazero.Runtime) error {
	env := rt.NewHostModuleBuilder("env")
	for _, group := range [][]hostFunc{loggingFuncs, headerFuncs, bufferFuncs, propertyFuncs,
		metricFuncs, timerFuncs, httpFuncs, httpCallFuncs, sharedDataFuncs, unsupportedFuncs} {
		for _, f := range group {
			env.NewFunctionBuilder().WithGoModuleFunction(f.fn, f.params, f.results).Export(f.name)
		}
	}
	if _, err := env.Instantiate(ctx); err != nil {
		return fmt.Errorf("instantiate env host module: %w", err)
	}
	for _, name := range []string{wasiModule, wasiUnstable} {
		b := rt.NewHostModuleBuilder(name)
		for _, f := range wasiFuncs {
			b.NewFunctionBuilder().WithGoModuleFunction(f.fn, f.params, f.results).Export(f.name)
		}
		if _, err := b.Instantiate(ctx); err != nil {
			return fmt.Errorf("instantiate %s host module: %w", name, err)
		}
	}
	return nil
}

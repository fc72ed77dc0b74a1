package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// newChecker starts a one-worker host with an empty configuration (valid
// for the filter: no rules) whose Check runs each candidate through a
// throw-away VM, exactly as Envoy validates a push.
func newChecker(ctx context.Context, wasmPath string) (*hosttest.Host, error) {
	wasm, err := loadWasm(wasmPath)
	if err != nil {
		return nil, err
	}
	// Another module could accept a configuration Nedry refuses; an OK
	// from it would be a lie.
	if err := checkNedryModule(wasmPath, wasm); err != nil {
		return nil, err
	}
	return hosttest.New(ctx, wasm, hosttest.Options{
		Workers:  1,
		LogLevel: hosttest.LogLevelInfo,
	})
}

// checkFile validates one configuration file. It returns the summary of a
// valid one, or every reason it is not.
func checkFile(host *hosttest.Host, path string) (string, []string) {
	cfg, err := readConfig(path)
	if err != nil {
		return "", []string{err.Error()}
	}
	return checkConfig(host, cfg)
}

// checkConfig validates the bytes of one configuration: the summary of a
// valid one, or every reason it is not.
func checkConfig(host *hosttest.Host, cfg []byte) (string, []string) {
	if err := host.Check(cfg); err != nil {
		return "", refusal(err)
	}
	return summary(cfg) + expiryNote(cfg, time.Now()), nil
}

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nedry check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	wasmPath := fs.String("wasm", defaultWasm, "compiled filter")
	// Flags may follow the files (nedry check a.json --wasm x.wasm): parse
	// again after each file, as the flag package stops at the first one.
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "nedry check: no configuration files given")
		return 2
	}
	host, err := newChecker(ctx, *wasmPath)
	if err != nil {
		fmt.Fprintf(stderr, "nedry check: %v\n", err)
		return 1
	}
	defer host.Close(context.Background())
	code := 0
	for _, path := range files {
		sum, problems := checkFile(host, path)
		if problems != nil {
			code = 1
			for _, p := range problems {
				fmt.Fprintf(stderr, "%s: %s\n", path, p)
			}
			continue
		}
		fmt.Fprintf(stdout, "%s: OK: %s\n", path, sum)
	}
	return code
}

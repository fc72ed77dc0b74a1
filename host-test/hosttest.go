// Package hosttest (directory host-test) plays Envoy's part for a proxy-wasm
// ABI 0.2.1 module: it loads a compiled .wasm with wazero and drives it
// through the callbacks, hostcalls and lifecycle of Envoy's host library,
// proxy-wasm-cpp-host, so the compiled filter is tested and benchmarked
// without Envoy.
//
// The main constraint is fidelity: the harness must be at least as strict as
// Envoy and never more lenient. Status codes, buffer hand-over through
// proxy_on_memory_allocate, header windows, callback order and the
// restrictions during _initialize and proxy_on_memory_allocate follow
// proxy-wasm-cpp-host (src/exports.cc, src/context.cc, src/wasm.cc). In strict
// mode (the default) ABI misuse that Envoy rejects fails loudly.
//
// The directory is host-test and the package is hosttest because a Go
// package name cannot contain a dash.
package hosttest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/nedry-chaos/nedry/host-test/internal/abi"
)

// LogLevel is a proxy-wasm log level (proxy_log_level_t).
type LogLevel = abi.LogLevel

// Log levels, as in the proxy-wasm spec.
const (
	LogLevelTrace    = abi.LogLevelTrace
	LogLevelDebug    = abi.LogLevelDebug
	LogLevelInfo     = abi.LogLevelInfo
	LogLevelWarn     = abi.LogLevelWarn
	LogLevelError    = abi.LogLevelError
	LogLevelCritical = abi.LogLevelCritical
)

// LogEntry is one guest log line (proxy_log, or stdout/stderr through WASI
// fd_write, which Envoy maps to info and error).
type LogEntry = abi.LogEntry

// MetricType is a proxy-wasm metric type.
type MetricType = abi.MetricType

// Metric types, as in the proxy-wasm spec.
const (
	MetricCounter   = abi.MetricCounter
	MetricGauge     = abi.MetricGauge
	MetricHistogram = abi.MetricHistogram
)

// Metric is one guest-defined metric, aggregated across workers as Envoy's
// shared stats store does.
type Metric struct {
	Type MetricType
	// Value is the counter or gauge value (histograms: the number of samples).
	Value int64
	// Histogram holds every recorded sample of a histogram, in order.
	Histogram []uint64
}

// FailurePolicy is what happens to requests on a VM after a guest trap, as
// Envoy's VmConfig/PluginConfig failure_policy.
type FailurePolicy int

const (
	// FailClosed answers every later request on the failed VM with a 503
	// local reply (details wasm_fail_stream; gRPC status 14 for gRPC
	// requests). It is Envoy's default.
	FailClosed FailurePolicy = iota
	// FailOpen passes later requests through untouched.
	FailOpen
	// FailReload starts a fresh VM for the next request on that worker.
	FailReload
)

func (p FailurePolicy) String() string {
	switch p {
	case FailClosed:
		return "fail_closed"
	case FailOpen:
		return "fail_open"
	case FailReload:
		return "fail_reload"
	}
	return fmt.Sprintf("FailurePolicy(%d)", int(p))
}

// ResetPoint is where the client (downstream) resets a stream.
type ResetPoint int

const (
	// ResetNone: the client waits for the whole response.
	ResetNone ResetPoint = iota
	// ResetAfterRequestHeaders: the client resets right after
	// proxy_on_request_headers returned (while paused, or before the
	// request reaches the upstream).
	ResetAfterRequestHeaders
	// ResetAfterResponseHeaders: the client resets right after
	// proxy_on_response_headers returned, before the response body.
	ResetAfterResponseHeaders
)

// Options configure a Host. The zero value is usable: one worker, strict
// mode, virtual clock, fail closed.
type Options struct {
	// Workers is the number of VMs (Envoy worker threads), default 1. Each is
	// an independent instance of one compiled module.
	Workers int
	// PluginConfig is the plugin configuration (proxy_on_configure, buffer
	// type PluginConfiguration).
	PluginConfig []byte
	// VMConfig is the VM configuration (proxy_on_vm_start, buffer type
	// VmConfiguration).
	VMConfig []byte
	// PluginName, RootID and VMID answer the properties plugin_name,
	// plugin_root_id and plugin_vm_id. PluginName defaults to "nedry".
	PluginName, RootID, VMID string
	// NodeID answers the property node.id.
	NodeID string
	// RealTime selects the wall clock, with ticks fired by a background
	// goroutine (for the nedry proxy). The default is a virtual clock moved
	// only by Advance and Do.
	RealTime bool
	// Start is the virtual clock origin, default 2026-01-01T00:00:00Z.
	Start time.Time
	// Seed makes WASI random_get deterministic when non-zero; 0 uses crypto
	// entropy.
	Seed int64
	// LogLevel answers proxy_get_log_level; logs below it are dropped, as
	// Envoy does. The zero value is LogLevelTrace.
	LogLevel LogLevel
	// BufferLimit is the most a filter may buffer of one body with
	// StopIterationAndBuffer, as Envoy's buffer limit; 0 means
	// DefaultBufferLimit (1 MiB). Past it a request is answered 413 and a
	// response reset, as Envoy does.
	BufferLimit int
	// FailurePolicy applies after a guest trap; default FailClosed.
	FailurePolicy FailurePolicy
	// Lenient turns strict mode off: ABI misuse then answers an error status
	// instead of failing the stream loudly.
	Lenient bool
	// Cache is the wazero compilation cache; a package-level cache is used
	// when nil, so a test suite compiles each module once.
	Cache wazero.CompilationCache
	// Upstream answers requests that reach the upstream when the Request has
	// no Upstream or Response of its own. Default: 200 "ok".
	Upstream func(ctx context.Context, req *UpstreamRequest) (*Response, error)
	// Clusters are the upstream clusters proxy_http_call can reach, by
	// name; a call to any other answers BadArgument, as Envoy does.
	Clusters map[string]Cluster
	// Properties are default property values by dotted path, e.g.
	// "xds.cluster_name"; Request.Properties override them.
	Properties map[string]string
	// Logger, when set, receives every guest log as it happens.
	Logger func(LogEntry)
	// CallObserver, when set, receives the name and wall time of every guest
	// export call the host makes (proxy_on_context_create,
	// proxy_on_request_headers, ..., proxy_on_tick, and the start-up calls
	// of every VM, including the throw-away VM that checks a
	// configuration), guest GC included, so a benchmark can time single
	// callbacks.
	// Only outermost calls are reported: a proxy_on_memory_allocate the
	// guest causes through a hostcall counts in its parent callback's time
	// and is not reported by itself. It runs on the calling goroutine while
	// that worker's VM is locked, so it must be quick and must not call the
	// Host; with several Workers it is called concurrently. When nil the
	// host reads no clock for it.
	CallObserver func(export string, d time.Duration)
}

// Request is one downstream HTTP request.
type Request struct {
	// Headers are the request headers, pseudo headers included. Missing
	// :method, :path, :authority and :scheme default to GET, /, example.com
	// and http. Keys are lowercased, as Envoy's header maps do.
	Headers [][2]string
	Body    []byte
	// Chunks, when set, is the body as the client sends it: one
	// proxy_on_request_body per chunk (Body must then be empty).
	Chunks   [][]byte
	Trailers [][2]string
	// Properties override Options.Properties for this request, e.g.
	// "xds.route_name", "xds.virtual_host_name", "xds.cluster_name",
	// "source.address", "request.id". The host reads the map while the
	// stream lives and never writes it (proxy_set_property writes the
	// stream's filter state), so it is not copied: leave it unchanged
	// until the stream ends.
	Properties map[string]string
	// Worker selects the VM when WorkerSet is true; otherwise requests go
	// round-robin over the workers.
	Worker    int
	WorkerSet bool
	// Upstream overrides Options.Upstream for this request.
	Upstream func(ctx context.Context, req *UpstreamRequest) (*Response, error)
	// Response is a canned upstream response (used when Upstream is nil).
	Response *Response
	// ResetAt makes the client reset the stream at that point.
	ResetAt ResetPoint
	// UpstreamLatency is how long the upstream takes to answer: the
	// response headers reach the filter that much clock time after the
	// request reached the upstream (virtual time, moved by Advance and Do,
	// ticks firing meanwhile; real time in RealTime mode). A scripted slow
	// upstream, for what measures latency.
	UpstreamLatency time.Duration
}

// UpstreamRequest is the request as it reached the upstream.
type UpstreamRequest struct {
	Headers  [][2]string
	Body     []byte
	Trailers [][2]string
}

// Header returns the first value of the named header (case-insensitive).
func (u *UpstreamRequest) Header(name string) (string, bool) {
	if u == nil {
		return "", false
	}
	return lookup(u.Headers, name)
}

// Response is an HTTP response: from the upstream, or as the client saw it.
type Response struct {
	Status  int
	Headers [][2]string
	Body    []byte
	// Chunks, when set on an upstream response, is its body as the
	// upstream sends it: one proxy_on_response_body per chunk (Body must
	// then be empty). The client's view always has the whole Body.
	Chunks   [][]byte
	Trailers [][2]string
}

// Header returns the first value of the named header (case-insensitive).
func (r *Response) Header(name string) string {
	if r == nil {
		return ""
	}
	v, _ := lookup(r.Headers, name)
	return v
}

// LocalReply is what the plugin asked for with proxy_send_local_response, or
// what the failure policy produced.
type LocalReply struct {
	Status  int
	Body    []byte
	Headers [][2]string
	Details string
	// GRPCStatus is the gRPC status of a gRPC reply, -1 for a plain one.
	GRPCStatus int32
}

// Result is the outcome of one stream, as each side saw it.
type Result struct {
	// Upstream is the request as it reached the upstream; nil if it never did.
	Upstream *UpstreamRequest
	// Response is what the client received (nil when reset). For a local
	// reply it is the reply after proxy_on_response_headers ran on it.
	Response *Response
	// LocalReply is set when the stream was answered locally.
	LocalReply *LocalReply
	// Reset is true when the stream was reset; ResetBy says by whom:
	// "plugin" (proxy_close_stream), "client" (Request.ResetAt, Stream.Reset),
	// "timeout" (Do gave up after an hour of virtual time) or "buffer_limit"
	// (a response body buffered past Options.BufferLimit).
	Reset   bool
	ResetBy string
	// Held is the clock time the stream spent paused.
	Held time.Duration
	// Logs are the guest logs attributed to this stream's context id.
	Logs []LogEntry
	// Trap is non-nil if a guest trap happened on this stream; it includes
	// the wasm stack.
	Trap error
	// Callbacks lists the proxy_on_* calls made for this stream, in order.
	Callbacks []string
	// FilterState is what the guest stored with proxy_set_property, by
	// Envoy's filter state name ("wasm.<path>"), as an access log sees it at
	// the end of the stream; nil when nothing was set.
	FilterState map[string]string
}

// Header returns the first value of the named response header as the client
// saw it, or "" when there was no response or no such header.
func (r Result) Header(name string) string {
	return r.Response.Header(name)
}

// PushError is a refused configuration push (Reconfigure or Check).
type PushError struct {
	// Stage is where it was refused: "validation" (throw-away VM) or
	// "worker N".
	Stage string
	// Reason is a one-line summary, e.g. "proxy_on_configure returned false".
	Reason string
	// Logs holds every guest log of the refused attempt.
	Logs []LogEntry
	// Trap is set when the guest trapped instead of answering.
	Trap error
}

func (e *PushError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "configuration refused (%s): %s", e.Stage, e.Reason)
	if e.Trap != nil {
		fmt.Fprintf(&b, ": %v", e.Trap)
	}
	for _, l := range e.Logs {
		if l.Level >= LogLevelWarn {
			fmt.Fprintf(&b, "\n  %s: %s", l.Level, l.Message)
		}
	}
	return b.String()
}

// ErrNotFound is returned by LoadFile when the .wasm does not exist.
var ErrNotFound = errors.New("not found")

// LoadFile reads a compiled module. A missing file is reported with the
// make target that builds it, so a test never skips silently.
func LoadFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s %w: run make build", path, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read module: %w", err)
	}
	return b, nil
}

// RepoPath joins elem onto the repository root, found by walking up from the
// working directory to the directory holding go.mod. Tests use it to find
// build/nedry.wasm wherever `go test` runs them.
func RepoPath(elem ...string) string {
	dir, err := os.Getwd()
	if err != nil {
		return filepath.Join(elem...)
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(append([]string{d}, elem...)...)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return filepath.Join(append([]string{dir}, elem...)...)
		}
		d = parent
	}
}

func lookup(h [][2]string, name string) (string, bool) {
	for _, kv := range h {
		if strings.EqualFold(kv[0], name) {
			return kv[1], true
		}
	}
	return "", false
}

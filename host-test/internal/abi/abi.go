// Package abi implements the host side of the proxy-wasm ABI 0.2.1 on wazero:
// the env.proxy_* host functions, the WASI preview1 subset Envoy provides,
// guest memory access and the per-VM context registry.
//
// It follows proxy-wasm-cpp-host, Envoy's host library: src/exports.cc for
// argument checks and status results, src/context.cc for callback order and
// src/wasm.cc for start-up. One file per ABI area, named after the areas of
// src/exports.cc. The plumbing (guest memory reads and writes) lives in
// memory.go; the meaning of each hostcall is a method on VM.
package abi

import (
	"fmt"
	"time"
)

// Status is proxy_status_t (proxy-wasm spec; WasmResult in cpp-host).
type Status uint32

// Status values.
const (
	StatusOK                   Status = 0
	StatusNotFound             Status = 1
	StatusBadArgument          Status = 2
	StatusSerializationFailure Status = 3
	StatusParseFailure         Status = 4
	StatusInvalidMemoryAccess  Status = 6
	StatusEmpty                Status = 7
	StatusCasMismatch          Status = 8
	StatusInternalFailure      Status = 10
	StatusUnimplemented        Status = 12
)

var statusNames = map[Status]string{
	StatusOK: "Ok", StatusNotFound: "NotFound", StatusBadArgument: "BadArgument",
	StatusSerializationFailure: "SerializationFailure", StatusParseFailure: "ParseFailure",
	StatusInvalidMemoryAccess: "InvalidMemoryAccess", StatusEmpty: "Empty",
	StatusCasMismatch: "CasMismatch", StatusInternalFailure: "InternalFailure",
	StatusUnimplemented: "Unimplemented",
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("Status(%d)", uint32(s))
}

// MapType is proxy_map_type_t.
type MapType uint32

// Header map types. cpp-host rejects types above MapTypeMax with BadArgument.
const (
	MapRequestHeaders   MapType = 0
	MapRequestTrailers  MapType = 1
	MapResponseHeaders  MapType = 2
	MapResponseTrailers MapType = 3
	MapTypeMax          MapType = 7
)

// BufferType is proxy_buffer_type_t.
type BufferType uint32

// Buffer types. cpp-host rejects types above BufferTypeMax with BadArgument.
const (
	BufferRequestBody         BufferType = 0
	BufferResponseBody        BufferType = 1
	BufferVMConfiguration     BufferType = 6
	BufferPluginConfiguration BufferType = 7
	BufferTypeMax             BufferType = 8
)

// StreamType is proxy_stream_type_t.
type StreamType uint32

// Stream types. cpp-host rejects types above StreamTypeMax with BadArgument.
const (
	StreamRequest  StreamType = 0
	StreamResponse StreamType = 1
	StreamTypeMax  StreamType = 3
)

// LogLevel is proxy_log_level_t.
type LogLevel uint32

// Log levels. cpp-host rejects levels above LogLevelCritical with BadArgument.
const (
	LogLevelTrace LogLevel = iota
	LogLevelDebug
	LogLevelInfo
	LogLevelWarn
	LogLevelError
	LogLevelCritical
)

func (l LogLevel) String() string {
	switch l {
	case LogLevelTrace:
		return "trace"
	case LogLevelDebug:
		return "debug"
	case LogLevelInfo:
		return "info"
	case LogLevelWarn:
		return "warn"
	case LogLevelError:
		return "error"
	case LogLevelCritical:
		return "critical"
	}
	return fmt.Sprintf("LogLevel(%d)", uint32(l))
}

// MetricType is proxy_metric_type_t.
type MetricType uint32

// Metric types.
const (
	MetricCounter   MetricType = 0
	MetricGauge     MetricType = 1
	MetricHistogram MetricType = 2
)

func (t MetricType) String() string {
	switch t {
	case MetricCounter:
		return "counter"
	case MetricGauge:
		return "gauge"
	case MetricHistogram:
		return "histogram"
	}
	return fmt.Sprintf("MetricType(%d)", uint32(t))
}

// LogEntry is one guest log line.
type LogEntry struct {
	Level     LogLevel
	Message   string
	ContextID uint32
	Worker    int
	Time      time.Time
}

// Action is what a stream callback returned, reduced to the two outcomes
// Envoy distinguishes for a 0.2.x plugin: go on, or stop until resumed.
type Action int

// Actions.
const (
	ActionContinue Action = iota
	ActionPause
)

// toAction maps a callback's i32 result the way cpp-host's
// convertVmCallResultTo*Status does: 0 continues, anything else stops
// (StopIteration is widened to StopAllIteration for ABI 0.2.x; 2 on headers
// is ContinueAndEndStream, which still continues). A pending local reply
// stops iteration whatever the guest returned (stopNextIteration).
func toAction(headers bool, r uint64, stopped bool) Action {
	if stopped {
		return ActionPause
	}
	if r == 0 || (headers && r == 2) {
		return ActionContinue
	}
	return ActionPause
}

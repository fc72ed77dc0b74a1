package abi

import "errors"

// Status is proxy_status_t, the result of every proxy_* host function.
type Status uint32

// Values of proxy_status_t. 5, 9 and 11 are unused in ABI v0.2.1 but kept so
// a status received from a newer host still prints its name.
const (
	StatusOK                   Status = 0
	StatusNotFound             Status = 1
	StatusBadArgument          Status = 2
	StatusSerializationFailure Status = 3
	StatusParseFailure         Status = 4
	StatusBadExpression        Status = 5
	StatusInvalidMemoryAccess  Status = 6
	StatusEmpty                Status = 7
	StatusCasMismatch          Status = 8
	StatusResultMismatch       Status = 9
	StatusInternalFailure      Status = 10
	StatusBrokenConnection     Status = 11
	StatusUnimplemented        Status = 12
)

// Sentinel errors for non-OK statuses, so callers use errors.Is.
var (
	ErrNotFound             = errors.New("proxy-wasm: not found")
	ErrBadArgument          = errors.New("proxy-wasm: bad argument")
	ErrSerializationFailure = errors.New("proxy-wasm: serialization failure")
	ErrParseFailure         = errors.New("proxy-wasm: parse failure")
	ErrBadExpression        = errors.New("proxy-wasm: bad expression")
	ErrInvalidMemoryAccess  = errors.New("proxy-wasm: invalid memory access")
	ErrEmpty                = errors.New("proxy-wasm: empty")
	ErrCasMismatch          = errors.New("proxy-wasm: cas mismatch")
	ErrResultMismatch       = errors.New("proxy-wasm: result mismatch")
	ErrInternalFailure      = errors.New("proxy-wasm: internal failure")
	ErrBrokenConnection     = errors.New("proxy-wasm: broken connection")
	ErrUnimplemented        = errors.New("proxy-wasm: unimplemented")
	ErrUnknownStatus        = errors.New("proxy-wasm: unknown status")
	// ErrTooLarge is the guest's own: a bounded read declined a longer
	// value (GetHeaderMapValueBounded).
	ErrTooLarge = errors.New("proxy-wasm: value larger than the bound")
)

var statusErrors = [...]error{
	StatusOK:                   nil,
	StatusNotFound:             ErrNotFound,
	StatusBadArgument:          ErrBadArgument,
	StatusSerializationFailure: ErrSerializationFailure,
	StatusParseFailure:         ErrParseFailure,
	StatusBadExpression:        ErrBadExpression,
	StatusInvalidMemoryAccess:  ErrInvalidMemoryAccess,
	StatusEmpty:                ErrEmpty,
	StatusCasMismatch:          ErrCasMismatch,
	StatusResultMismatch:       ErrResultMismatch,
	StatusInternalFailure:      ErrInternalFailure,
	StatusBrokenConnection:     ErrBrokenConnection,
	StatusUnimplemented:        ErrUnimplemented,
}

// Err returns nil for StatusOK and the matching sentinel error otherwise.
// It never allocates, so it is safe on the request path.
func (s Status) Err() error {
	if int(s) < len(statusErrors) {
		return statusErrors[s]
	}
	return ErrUnknownStatus
}

// Action is proxy_action_t, the answer of the HTTP stream callbacks.
type Action uint32

// Values of proxy_action_t.
const (
	ActionContinue Action = 0
	ActionPause    Action = 1
)

// MapType is proxy_map_type_t, which header map a call addresses.
type MapType uint32

// Values of proxy_map_type_t.
const (
	MapTypeHTTPRequestHeaders       MapType = 0
	MapTypeHTTPRequestTrailers      MapType = 1
	MapTypeHTTPResponseHeaders      MapType = 2
	MapTypeHTTPResponseTrailers     MapType = 3
	MapTypeGRPCCallInitialMetadata  MapType = 4
	MapTypeGRPCCallTrailingMetadata MapType = 5
	MapTypeHTTPCallResponseHeaders  MapType = 6
	MapTypeHTTPCallResponseTrailers MapType = 7
)

// BufferType is proxy_buffer_type_t, which buffer a call addresses.
type BufferType uint32

// Values of proxy_buffer_type_t.
const (
	BufferTypeHTTPRequestBody          BufferType = 0
	BufferTypeHTTPResponseBody         BufferType = 1
	BufferTypeDownstreamData           BufferType = 2
	BufferTypeUpstreamData             BufferType = 3
	BufferTypeHTTPCallResponseBody     BufferType = 4
	BufferTypeGRPCCallMessage          BufferType = 5
	BufferTypeVMConfiguration          BufferType = 6
	BufferTypePluginConfiguration      BufferType = 7
	BufferTypeForeignFunctionArguments BufferType = 8
)

// StreamType is proxy_stream_type_t, the direction proxy_continue_stream
// and proxy_close_stream act on.
type StreamType uint32

// Values of proxy_stream_type_t.
const (
	StreamTypeHTTPRequest  StreamType = 0
	StreamTypeHTTPResponse StreamType = 1
	StreamTypeDownstream   StreamType = 2
	StreamTypeUpstream     StreamType = 3
)

// MetricType is proxy_metric_type_t.
type MetricType uint32

// Values of proxy_metric_type_t.
const (
	MetricTypeCounter   MetricType = 0
	MetricTypeGauge     MetricType = 1
	MetricTypeHistogram MetricType = 2
)

// LogLevel is proxy_log_level_t.
type LogLevel uint32

// Values of proxy_log_level_t.
const (
	LogLevelTrace    LogLevel = 0
	LogLevelDebug    LogLevel = 1
	LogLevelInfo     LogLevel = 2
	LogLevelWarn     LogLevel = 3
	LogLevelError    LogLevel = 4
	LogLevelCritical LogLevel = 5
)

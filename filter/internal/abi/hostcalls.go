package abi

import (
	"time"
	"unsafe"
)

// Typed wrappers around the imported host functions. Each returns the
// status as one of the sentinel errors in enums.go. Strings returned here
// view guest memory the host filled and the guest never writes again, so
// they cost no copy.

// out receives the results the host writes through pointers. A local
// variable would do in principle, but the compiler moves every variable
// whose address goes to a //go:wasmimport function to the heap (it cannot
// see what the host does with it), so each such hostcall allocated. A
// package variable never moves and costs nothing. It is safe with nested
// callbacks: the host writes the results last, after any call back into the
// guest (proxy_on_memory_allocate), and each wrapper reads them right after
// the hostcall returns, before it can make another.
var out struct {
	ptr, size uint32
	u32       uint32
	u64       uint64
}

// Log writes msg at level with proxy_log.
func Log(level LogLevel, msg string) error {
	return Status(proxyLog(uint32(level), stringData(msg), uint32(len(msg)))).Err()
}

// LogBytes is Log for a message built in a reusable buffer, so logging on
// the request path need not allocate a string.
func LogBytes(level LogLevel, msg []byte) error {
	return Status(proxyLog(uint32(level), sliceData(msg), uint32(len(msg)))).Err()
}

// GetLogLevel returns the host's current log level (proxy_get_log_level).
// Envoy can change it at run time without telling the guest, so callers ask
// again rather than caching it for long.
func GetLogLevel() (LogLevel, error) {
	if err := Status(proxyGetLogLevel(&out.u32)).Err(); err != nil {
		return LogLevelTrace, err
	}
	return LogLevel(out.u32), nil
}

// GetBufferBytes returns size bytes from start of the buffer bt
// (proxy_get_buffer_bytes).
func GetBufferBytes(bt BufferType, start, size int) ([]byte, error) {
	mark := pinMark()
	defer unpin(mark)
	if err := Status(proxyGetBufferBytes(uint32(bt), uint32(start), uint32(size), &out.ptr, &out.size)).Err(); err != nil {
		return nil, err
	}
	return take(mark, out.ptr, out.size)
}

// SetBufferBytes writes data over size bytes from start of the buffer bt
// (proxy_set_buffer_bytes). In Envoy, start 0 with size the whole buffer
// replaces it.
func SetBufferBytes(bt BufferType, start, size int, data []byte) error {
	return Status(proxySetBufferBytes(uint32(bt), uint32(start), uint32(size), sliceData(data), uint32(len(data)))).Err()
}

// GetHeaderMapValue returns the value of key in map m
// (proxy_get_header_map_value); ErrNotFound when absent.
func GetHeaderMapValue(m MapType, key string) (string, error) {
	mark := pinMark()
	defer unpin(mark)
	if err := Status(proxyGetHeaderMapValue(uint32(m), stringData(key), uint32(len(key)), &out.ptr, &out.size)).Err(); err != nil {
		return "", err
	}
	b, err := take(mark, out.ptr, out.size)
	return bytesString(b), err
}

// GetHeaderMapValueTransient is GetHeaderMapValue into memory the guest
// reuses: the value is valid only until the outermost callback running now
// returns.
func GetHeaderMapValueTransient(m MapType, key string) (string, error) {
	arenaArmed = true
	v, err := GetHeaderMapValue(m, key)
	arenaArmed = false
	return v, err
}

// GetHeaderMapValueBounded is GetHeaderMapValueTransient for a value of at
// most max bytes (max > 0): a longer one is declined when the host asks for
// memory to copy it into, so it never enters guest memory, and the result is
// ErrTooLarge. What a request can make the guest hold is then bounded by
// max, whatever the host has.
func GetHeaderMapValueBounded(m MapType, key string, max int) (string, error) {
	allocLimit, allocDeclined = uint32(max), false
	v, err := GetHeaderMapValueTransient(m, key)
	allocLimit = 0
	if allocDeclined {
		allocDeclined = false
		return "", ErrTooLarge
	}
	return v, err
}

// GetHeaderMapValueShort is GetHeaderMapValue for a value the caller
// compares at once and of at most 16 bytes (a :status, a grpc-status): the
// host copies it into one fixed buffer, so the result is valid only until
// the next GetHeaderMapValueShort. A longer value is declined when the host
// asks for memory (see allocate) and the result is ErrTooLarge.
func GetHeaderMapValueShort(m MapType, key string) (string, error) {
	short.armed, short.declined = true, false
	st := Status(proxyGetHeaderMapValue(uint32(m), stringData(key), uint32(len(key)), &out.ptr, &out.size))
	short.armed = false
	switch {
	case short.declined:
		return "", ErrTooLarge
	case st != StatusOK:
		return "", st.Err()
	case out.size == 0:
		return "", nil
	case out.ptr != uint32(uintptr(unsafe.Pointer(&short.buf[0]))) || out.size > shortMax:
		return "", ErrInvalidMemoryAccess
	}
	return unsafe.String(&short.buf[0], out.size), nil
}

// AddHeaderMapValue adds another value for key (proxy_add_header_map_value).
func AddHeaderMapValue(m MapType, key, value string) error {
	return Status(proxyAddHeaderMapValue(uint32(m), stringData(key), uint32(len(key)),
		stringData(value), uint32(len(value)))).Err()
}

// ReplaceHeaderMapValue sets key to value, adding it when absent
// (proxy_replace_header_map_value).
func ReplaceHeaderMapValue(m MapType, key, value string) error {
	return Status(proxyReplaceHeaderMapValue(uint32(m), stringData(key), uint32(len(key)),
		stringData(value), uint32(len(value)))).Err()
}

// RemoveHeaderMapValue removes every value of key
// (proxy_remove_header_map_value).
func RemoveHeaderMapValue(m MapType, key string) error {
	return Status(proxyRemoveHeaderMapValue(uint32(m), stringData(key), uint32(len(key)))).Err()
}

// GetHeaderMapPairs returns the whole map m, still serialized
// (proxy_get_header_map_pairs). Iterating Pairs allocates nothing.
func GetHeaderMapPairs(m MapType) (Pairs, error) {
	mark := pinMark()
	defer unpin(mark)
	if err := Status(proxyGetHeaderMapPairs(uint32(m), &out.ptr, &out.size)).Err(); err != nil {
		return Pairs{}, err
	}
	b, err := take(mark, out.ptr, out.size)
	if err != nil {
		return Pairs{}, err
	}
	return ParsePairs(b)
}

// GetHeaderMapPairsTransient is GetHeaderMapPairs into memory the guest
// reuses (see memory.go): the result, and every string taken from it, is
// valid only until the outermost callback running now returns. Use it for a
// look at the headers within one callback, and copy anything kept longer.
func GetHeaderMapPairsTransient(m MapType) (Pairs, error) {
	arenaArmed = true
	p, err := GetHeaderMapPairs(m)
	arenaArmed = false
	return p, err
}

// SetHeaderMapPairs replaces map m with pairs (proxy_set_header_map_pairs).
func SetHeaderMapPairs(m MapType, pairs [][2]string) error {
	b := AppendPairs(nil, pairs)
	return Status(proxySetHeaderMapPairs(uint32(m), sliceData(b), uint32(len(b)))).Err()
}

// PropertyPath joins path segments the way proxy_get_property expects them
// (NUL-separated). Precompute it for paths read on the request path.
func PropertyPath(path ...string) string {
	n := 0
	for _, p := range path {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for i, p := range path {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return string(b)
}

// GetProperty returns the property at path (proxy_get_property), e.g.
// GetProperty("xds", "route_name"); ErrNotFound when the host has none.
func GetProperty(path ...string) (string, error) {
	return GetPropertyPath(PropertyPath(path...))
}

// GetPropertyPath is GetProperty with a path already joined by PropertyPath.
func GetPropertyPath(path string) (string, error) {
	mark := pinMark()
	defer unpin(mark)
	if err := Status(proxyGetProperty(stringData(path), uint32(len(path)), &out.ptr, &out.size)).Err(); err != nil {
		return "", err
	}
	b, err := take(mark, out.ptr, out.size)
	return bytesString(b), err
}

// GetPropertyPathTransient is GetPropertyPath into memory the guest reuses:
// the value is valid only until the outermost callback running now returns.
func GetPropertyPathTransient(path string) (string, error) {
	arenaArmed = true
	v, err := GetPropertyPath(path)
	arenaArmed = false
	return v, err
}

// SetProperty stores value under path in the current stream's filter state
// (proxy_set_property). Envoy names it "wasm." followed by path as given, so
// an access log reads it as %FILTER_STATE(wasm.<path>:PLAIN)%; the host
// copies both strings.
func SetProperty(path, value string) error {
	return Status(proxySetProperty(stringData(path), uint32(len(path)), stringData(value), uint32(len(value)))).Err()
}

// SendLocalResponse answers the current stream from the proxy
// (proxy_send_local_response). headers is serialized with AppendPairs.
// grpcStatus in 0..16 makes Envoy answer a gRPC request with HTTP 200 and
// that grpc-status; -1 sends a plain HTTP reply.
func SendLocalResponse(status uint32, details string, body, headers []byte, grpcStatus int32) error {
	return Status(proxySendLocalResponse(status, stringData(details), uint32(len(details)),
		sliceData(body), uint32(len(body)), sliceData(headers), uint32(len(headers)), grpcStatus)).Err()
}

// ContinueStream resumes a paused stream direction (proxy_continue_stream).
// From proxy_on_tick, call SetEffectiveContext first: Envoy resets the
// effective context at every callback and otherwise resumes nothing.
func ContinueStream(st StreamType) error {
	return Status(proxyContinueStream(uint32(st))).Err()
}

// CloseStream resets a stream direction (proxy_close_stream).
func CloseStream(st StreamType) error {
	return Status(proxyCloseStream(uint32(st))).Err()
}

// SetEffectiveContext makes later host calls act on contextID
// (proxy_set_effective_context).
func SetEffectiveContext(contextID uint32) error {
	return Status(proxySetEffectiveContext(contextID)).Err()
}

// SetTickPeriod starts (or with 0 stops) proxy_on_tick for the root context
// of the current context (proxy_set_tick_period_milliseconds). The period is
// rounded down to milliseconds; a positive period below 1ms becomes 1ms.
func SetTickPeriod(period time.Duration) error {
	ms := uint32(period / time.Millisecond)
	if period > 0 && ms == 0 {
		ms = 1
	}
	return Status(proxySetTickPeriodMilliseconds(ms)).Err()
}

// CurrentTime returns the host's wall clock in nanoseconds since the Unix
// epoch (proxy_get_current_time_nanoseconds).
func CurrentTime() (int64, error) {
	if err := Status(proxyGetCurrentTimeNanoseconds(&out.u64)).Err(); err != nil {
		return 0, err
	}
	return int64(out.u64), nil
}

// DefineMetric defines a metric and returns its id (proxy_define_metric).
// Envoy answers the same metric for the same name, so defining it again
// from another root context is harmless.
func DefineMetric(t MetricType, name string) (uint32, error) {
	err := Status(proxyDefineMetric(uint32(t), stringData(name), uint32(len(name)), &out.u32)).Err()
	return out.u32, err
}

// IncrementMetric adds delta to a metric (proxy_increment_metric). Counters
// refuse negative deltas; gauges accept them.
func IncrementMetric(id uint32, delta int64) error {
	return Status(proxyIncrementMetric(id, delta)).Err()
}

// RecordMetric sets a gauge or records a histogram value
// (proxy_record_metric).
func RecordMetric(id uint32, value uint64) error {
	return Status(proxyRecordMetric(id, value)).Err()
}

// GetMetric returns a metric's value (proxy_get_metric).
func GetMetric(id uint32) (uint64, error) {
	err := Status(proxyGetMetric(id, &out.u64)).Err()
	return out.u64, err
}

// Done tells the host the current (root) context finished the work it held
// back when proxy_on_done answered false (proxy_done). Envoy looks the
// pending context up from the effective context, so from a stream callback
// call SetEffectiveContext(root) first.
func Done() error {
	return Status(proxyDone()).Err()
}

// clockMonotonic is WASI's CLOCKID_MONOTONIC.
const clockMonotonic = 1

// Monotonic returns the host's monotonic clock in nanoseconds from an
// arbitrary origin (WASI clock_time_get), ok false when the host cannot read
// it. It is the clock time.Since reads, without the four calls of Go's time
// and runtime layers around the host call.
func Monotonic() (ns int64, ok bool) {
	if clockTimeGet(clockMonotonic, 1, &out.u64) != 0 {
		return 0, false
	}
	return int64(out.u64), true
}

package abi

import "time"

// Typed wrappers around the imported host functions. Each returns the
// status as one of the sentinel errors in enums.go. Strings returned here
// view guest memory the host filled and the guest never writes again, so
// they cost no copy.

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
	var level uint32
	if err := Status(proxyGetLogLevel(&level)).Err(); err != nil {
		return LogLevelTrace, err
	}
	return LogLevel(level), nil
}

// LogEnabled reports whether a message at level would be written. On error
// it answers true: losing a log line is worse than formatting one.
func LogEnabled(level LogLevel) bool {
	host, err := GetLogLevel()
	return err != nil || level >= host
}

// GetBufferBytes returns size bytes from start of the buffer bt
// (proxy_get_buffer_bytes).
func GetBufferBytes(bt BufferType, start, size int) ([]byte, error) {
	var ptr, n uint32
	mark := pinMark()
	defer unpin(mark)
	if err := Status(proxyGetBufferBytes(uint32(bt), uint32(start), uint32(size), &ptr, &n)).Err(); err != nil {
		return nil, err
	}
	return take(mark, ptr, n)
}

// GetHeaderMapValue returns the value of key in map m
// (proxy_get_header_map_value); ErrNotFound when absent.
func GetHeaderMapValue(m MapType, key string) (string, error) {
	var ptr, n uint32
	mark := pinMark()
	defer unpin(mark)
	if err := Status(proxyGetHeaderMapValue(uint32(m), stringData(key), uint32(len(key)), &ptr, &n)).Err(); err != nil {
		return "", err
	}
	b, err := take(mark, ptr, n)
	return bytesString(b), err
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
	var ptr, n uint32
	mark := pinMark()
	defer unpin(mark)
	if err := Status(proxyGetHeaderMapPairs(uint32(m), &ptr, &n)).Err(); err != nil {
		return Pairs{}, err
	}
	b, err := take(mark, ptr, n)
	if err != nil {
		return Pairs{}, err
	}
	return ParsePairs(b)
}

// GetHeaderMapPairsTransient is GetHeaderMapPairs into a buffer the guest
// reuses: the result, and every string taken from it, is valid only until
// the next GetHeaderMapPairsTransient call. Use it for a look at the headers
// within one callback, and copy anything kept longer.
func GetHeaderMapPairsTransient(m MapType) (Pairs, error) {
	scratchArmed = true
	p, err := GetHeaderMapPairs(m)
	scratchArmed = false
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
	var ptr, n uint32
	mark := pinMark()
	defer unpin(mark)
	if err := Status(proxyGetProperty(stringData(path), uint32(len(path)), &ptr, &n)).Err(); err != nil {
		return "", err
	}
	b, err := take(mark, ptr, n)
	return bytesString(b), err
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
	var now uint64
	if err := Status(proxyGetCurrentTimeNanoseconds(&now)).Err(); err != nil {
		return 0, err
	}
	return int64(now), nil
}

// DefineMetric defines a metric and returns its id (proxy_define_metric).
// Envoy answers the same metric for the same name, so defining it again
// from another root context is harmless.
func DefineMetric(t MetricType, name string) (uint32, error) {
	var id uint32
	err := Status(proxyDefineMetric(uint32(t), stringData(name), uint32(len(name)), &id)).Err()
	return id, err
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
	var v uint64
	err := Status(proxyGetMetric(id, &v)).Err()
	return v, err
}

// Done tells the host the current (root) context finished the work it held
// back when proxy_on_done answered false (proxy_done). Envoy looks the
// pending context up from the effective context, so from a stream callback
// call SetEffectiveContext(root) first.
func Done() error {
	return Status(proxyDone()).Err()
}

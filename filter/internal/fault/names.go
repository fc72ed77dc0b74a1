package fault

// Request-control headers. Every x-nedry-* request header is removed before
// the request goes upstream, whether header control is on or off.
const (
	// HeaderPrefix is shared by every request-control header.
	HeaderPrefix = "x-nedry-"
	// HeaderAbort asks for an abort with the given HTTP status (200..599).
	HeaderAbort = "x-nedry-abort"
	// HeaderAbortGRPC asks for a gRPC abort with the given code (0..16).
	HeaderAbortGRPC = "x-nedry-abort-grpc"
	// HeaderDelayMS asks for a delay in milliseconds, capped at max_delay.
	HeaderDelayMS = "x-nedry-delay-ms"
	// HeaderSecret must equal header_control.secret when one is set.
	HeaderSecret = "x-nedry-secret"
)

// Metric names, following Envoy: dotted and lowercase, counters in the past
// tense, gauges a state.
const (
	// MetricPrefix starts every metric name.
	MetricPrefix = "nedry."
	// MetricConfigRejected counts configurations refused by proxy_on_configure.
	MetricConfigRejected = "nedry.config_rejected"
	// MetricErrors counts recovered panics and unexpected hostcall failures.
	MetricErrors = "nedry.errors"
	// MetricActiveFaults is the gauge of streams a delay holds right now.
	MetricActiveFaults = "nedry.active_faults"
	// MetricOpsSkipped counts truncate and garble ops that left a header
	// alone because its value is longer than MaxOpValue.
	MetricOpsSkipped = "nedry.ops_skipped"
	// MetricExpired is the gauge that is 1 once the configuration's expires
	// instant passed; it is defined by the first configuration that expires.
	MetricExpired = "nedry.expired"
)

// Per-rule counter suffixes; see RuleMetric.
const (
	CounterMatched             = "matched"
	CounterAbortsInjected      = "aborts_injected"
	CounterDelaysInjected      = "delays_injected"
	CounterCorruptionsInjected = "corruptions_injected"
	CounterResetsInjected      = "resets_injected"
	CounterFaultsOverflow      = "faults_overflow"
)

// RuleCounters lists the per-rule counter suffixes in a fixed order, so the
// plugin can define them all at configure time.
var RuleCounters = [...]string{
	CounterMatched,
	CounterAbortsInjected,
	CounterDelaysInjected,
	CounterCorruptionsInjected,
	CounterResetsInjected,
	CounterFaultsOverflow,
}

// RuleMetric returns the name of a per-rule counter, such as
// "nedry.rule.payments.aborts_injected". It allocates: call it at configure
// time and keep the metric id.
func RuleMetric(rule, counter string) string {
	return MetricPrefix + "rule." + rule + "." + counter
}

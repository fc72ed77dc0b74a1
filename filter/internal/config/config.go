// Package config turns the plugin's JSON configuration into an immutable,
// validated Config.
//
// It runs natively in tests and inside the guest (GOOS=wasip1) and makes no
// ABI calls. Parse is strict: unknown keys, wrong types and out-of-range
// values are all errors, reported together with their JSON path, so a typo
// never silently does nothing. Everything the request path needs (the match
// table, thresholds, response tags) is computed here, once.
package config

import (
	"strconv"
	"strings"
	"time"

	"github.com/nedry-chaos/nedry/filter/internal/match"
)

// Defaults applied when a key is omitted.
const (
	DefaultTick            = 5 * time.Millisecond
	DefaultMaxActiveFaults = 1000
	DefaultResponseHeader  = "x-nedry-fault"
	DefaultMaxDelay        = 10 * time.Second
	DefaultHTTPStatus      = 503
	DefaultAbortBody       = "nedry fault: abort"
)

// Config is a validated plugin configuration. It is immutable after Parse and
// safe to share between streams.
type Config struct {
	// Enabled is the kill switch: false injects nothing.
	Enabled bool
	// DryRun decides, counts and logs, but injects nothing.
	DryRun bool
	// Seed, when non-zero, makes the decision sequence deterministic; zero
	// asks the plugin to seed from host entropy.
	Seed uint64
	// Tick is the timer granularity for delays.
	Tick time.Duration
	// MaxActiveFaults caps the streams held by a delay at once, per VM.
	MaxActiveFaults int
	// ResponseHeader names the response header tagging touched responses;
	// empty turns tagging off.
	ResponseHeader string
	// HeaderControl configures faults requested by request headers.
	HeaderControl HeaderControl
	// Rules in config order; the first matching rule wins.
	Rules []*Rule
	// Expires is the dead man's switch: from this instant (Unix
	// nanoseconds) nothing is injected. Zero means never. ExpiresText is
	// the instant as written in the configuration.
	Expires     int64
	ExpiresText string

	table *match.Table
}

// HeaderControl configures faults requested by x-nedry-* request headers.
type HeaderControl struct {
	Enabled bool
	// Secret, when non-empty, must equal the x-nedry-secret request header.
	Secret string
	// MaxDelay caps x-nedry-delay-ms.
	MaxDelay time.Duration
}

// Rule is one validated rule. A nil fault pointer means that fault is not
// configured.
type Rule struct {
	Name string
	// Index is the rule's position in Config.Rules.
	Index int
	Match match.Conditions
	// Active is the rule's time window; nil means always.
	Active *Active
	// Halt is the rule's guardrail; nil means none.
	Halt *Halt

	Abort   *Abort
	Delay   *Delay
	Corrupt *Corrupt
	Reset   *Reset
	// Duplicate sends copies of the request (parse_duplicate.go); it is
	// drawn on its own, after the other four.
	Duplicate *Duplicate

	// Sample, when set, draws the faults from a request key (sample_by).
	Sample *Sample

	// own is the set of faults the rule configures, and tags holds the
	// response tag of every subset of own, indexed by tagIndex: precomputed
	// so the request path does not allocate, and only the 2^k subsets of
	// the rule's k faults, so a one-fault rule keeps two strings, not 16
	// (200 bytes less per rule, measured with 10,000 rules).
	own  FaultSet
	tags []string
	// oneTag holds tags for a rule of one fault, most rules: one allocation
	// less per rule at configure time for the same bytes (see computeTags).
	oneTag [2]string
}

// Abort answers the request locally instead of forwarding it.
type Abort struct {
	PPM        uint32
	Ramp       *Ramp // nil: PPM throughout
	HTTPStatus uint32
	// GRPCStatus is the gRPC status for gRPC requests; -1 means not set, so
	// gRPC requests get HTTPStatus like any other.
	GRPCStatus int32
	Body       []byte
	// Headers are extra response headers, in config order.
	Headers [][2]string
}

// Phase says where a delay holds the stream.
type Phase uint8

// Delay phases.
const (
	// PhaseRequest holds the request before it goes upstream.
	PhaseRequest Phase = iota
	// PhaseResponse holds the upstream response before it goes downstream.
	PhaseResponse
)

// String returns the phase's config spelling.
func (p Phase) String() string {
	if p == PhaseResponse {
		return "response"
	}
	return "request"
}

// Delay holds the stream for Fixed plus a uniform jitter in [-Jitter,
// +Jitter], clamped at zero.
type Delay struct {
	PPM    uint32
	Ramp   *Ramp // nil: PPM throughout
	Fixed  time.Duration
	Jitter time.Duration
	Phase  Phase
}

// Corrupt rewrites request headers before they go upstream and response
// headers before they go downstream.
type Corrupt struct {
	PPM      uint32
	Ramp     *Ramp // nil: PPM throughout
	Request  []HeaderOp
	Response []HeaderOp
	// RequestBody and ResponseBody, when set, rewrite the bodies too
	// (parse_body.go).
	RequestBody, ResponseBody *BodyCorrupt
}

// Reset closes the stream, as a dropped connection looks to the client.
type Reset struct {
	PPM  uint32
	Ramp *Ramp // nil: PPM throughout
}

// OpKind names a header operation.
type OpKind uint8

// Header operations.
const (
	// OpRemove removes every value of the header.
	OpRemove OpKind = iota + 1
	// OpSet replaces the header's value, adding it when absent.
	OpSet
	// OpAppend adds another value.
	OpAppend
	// OpEmpty sets the header to the empty string.
	OpEmpty
	// OpTruncate keeps the first Length bytes of the value.
	OpTruncate
	// OpGarble replaces each byte with a random printable ASCII character.
	OpGarble
	// OpStatus replaces the response :status with Value.
	OpStatus
)

var opNames = [...]string{
	OpRemove:   "remove",
	OpSet:      "set",
	OpAppend:   "append",
	OpEmpty:    "empty",
	OpTruncate: "truncate",
	OpGarble:   "garble",
	OpStatus:   "status",
}

// String returns the op's config spelling.
func (k OpKind) String() string {
	if int(k) < len(opNames) && opNames[k] != "" {
		return opNames[k]
	}
	return "op(" + strconv.Itoa(int(k)) + ")"
}

// HeaderOp is one header operation of a corrupt fault.
type HeaderOp struct {
	Kind OpKind
	// Name is the lowercase header name; ":status" for OpStatus.
	Name  string
	Value string
	// Length is the number of bytes OpTruncate keeps.
	Length int
}

// FaultSet is a set of fault kinds, used to index precomputed tags.
type FaultSet uint8

// Fault kinds, in the order they are drawn and listed in tags.
const (
	FaultDelay FaultSet = 1 << iota
	FaultAbort
	FaultCorrupt
	FaultReset
	// FaultDuplicate names a drawn duplicate in the filter state; the
	// response tag never carries it, since the response is untouched.
	FaultDuplicate
)

// faultMask holds every fault kind.
const faultMask = FaultSet(1<<5 - 1)

var faultNames = [...]struct {
	f    FaultSet
	name string
}{{FaultDelay, "delay"}, {FaultAbort, "abort"}, {FaultCorrupt, "corrupt"}, {FaultReset, "reset"}, {FaultDuplicate, "duplicate"}}

// Tag returns the response tag for faults f injected by this rule, such as
// "payments; delay,corrupt", or "" when f is empty. It does not allocate
// when f contains only faults the rule configures, which is all Decide can
// draw.
func (r *Rule) Tag(f FaultSet) string {
	f &= faultMask
	if f == 0 {
		return ""
	}
	if f&^r.own == 0 {
		return r.tags[tagIndex(r.own, f)]
	}
	return BuildTag(r.Name, f)
}

// tagIndex packs the bits of f, a subset of own, into the low bits, in the
// order of own's bits.
func tagIndex(own, f FaultSet) int {
	i, bit := 0, 1
	for b := FaultSet(1); b <= faultMask; b <<= 1 {
		if own&b != 0 {
			if f&b != 0 {
				i |= bit
			}
			bit <<= 1
		}
	}
	return i
}

// computeTags precomputes the tag of every combination of the rule's own
// faults; other combinations are built on demand.
func (r *Rule) computeTags() {
	var own FaultSet
	if r.Delay != nil {
		own |= FaultDelay
	}
	if r.Abort != nil {
		own |= FaultAbort
	}
	if r.Corrupt != nil {
		own |= FaultCorrupt
	}
	if r.Reset != nil {
		own |= FaultReset
	}
	if r.Duplicate != nil {
		own |= FaultDuplicate
	}
	r.own = own
	k := 0
	for b := FaultSet(1); b <= faultMask; b <<= 1 {
		if own&b != 0 {
			k++
		}
	}
	if k <= 1 {
		r.tags = r.oneTag[:1<<k]
	} else {
		r.tags = make([]string, 1<<k)
	}
	for f := FaultSet(1); f <= faultMask; f++ {
		if f&^own == 0 {
			r.tags[tagIndex(own, f)] = BuildTag(r.Name, f)
		}
	}
}

// BuildTag formats the response tag for rule name and faults f. It allocates;
// the request path uses Rule.Tag instead.
func BuildTag(name string, f FaultSet) string {
	if f&faultMask == 0 {
		return ""
	}
	n := len(name) + len("; ") - len(",")
	for _, fn := range faultNames {
		if f&fn.f != 0 {
			n += len(",") + len(fn.name)
		}
	}
	var b strings.Builder
	b.Grow(n) // one allocation per tag rather than one per growth
	b.WriteString(name)
	b.WriteString("; ")
	sep := ""
	for _, fn := range faultNames {
		if f&fn.f != 0 {
			b.WriteString(sep)
			b.WriteString(fn.name)
			sep = ","
		}
	}
	return b.String()
}

// Empty reports whether the configuration has no rules, so the plugin can
// warn that it will never inject anything by rule.
func (c *Config) Empty() bool { return len(c.Rules) == 0 }

// Match returns the first rule, in config order, whose conditions hold for
// req, or nil. It uses the table compiled by Parse and does not allocate.
func (c *Config) Match(req match.Request) *Rule {
	if c.table == nil {
		return nil
	}
	i := c.table.Match(req)
	if i < 0 {
		return nil
	}
	return c.Rules[i]
}

// Needs reports which request attributes any rule reads.
func (c *Config) Needs() match.Needs {
	if c.table == nil {
		return match.Needs{}
	}
	return c.table.Needs()
}

// summaryNames caps the rule names listed by Summary.
const summaryNames = 5

// Summary describes the configuration in one line for the log, such as
// "3 rules (payments, search, grpc_users), enabled, seed 42, tick 5ms".
func (c *Config) Summary() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(c.Rules)))
	if len(c.Rules) == 1 {
		b.WriteString(" rule")
	} else {
		b.WriteString(" rules")
	}
	if len(c.Rules) > 0 {
		b.WriteString(" (")
		for i, r := range c.Rules {
			if i == summaryNames {
				b.WriteString(", ... ")
				b.WriteString(strconv.Itoa(len(c.Rules) - summaryNames))
				b.WriteString(" more")
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(r.Name)
		}
		b.WriteString(")")
	}
	if c.Enabled {
		b.WriteString(", enabled")
	} else {
		b.WriteString(", disabled")
	}
	if c.DryRun {
		b.WriteString(", dry run")
	}
	if c.Seed == 0 {
		b.WriteString(", random seed")
	} else {
		b.WriteString(", seed ")
		b.WriteString(strconv.FormatUint(c.Seed, 10))
	}
	b.WriteString(", tick ")
	b.WriteString(c.Tick.String())
	if c.HeaderControl.Enabled {
		b.WriteString(", header control on")
	}
	if c.Expires != 0 {
		b.WriteString(", expires ")
		b.WriteString(c.ExpiresText)
	}
	return b.String()
}

// Error is a rejected configuration: every problem found, in document order.
type Error struct {
	// Problems are "<json path>: <why>, got <value>" lines.
	Problems []string
}

// maxErrorLines caps the problems Error prints.
const maxErrorLines = 50

// Error joins the problems one per line, capped at 50 lines plus a last line
// "... and N more errors".
func (e *Error) Error() string {
	if len(e.Problems) <= maxErrorLines {
		return strings.Join(e.Problems, "\n")
	}
	return strings.Join(e.Problems[:maxErrorLines], "\n") +
		"\n... and " + strconv.Itoa(len(e.Problems)-maxErrorLines) + " more errors"
}

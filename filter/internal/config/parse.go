package config

import (
	"bytes"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/nedry-chaos/nedry/filter/internal/match"
)

// Limits that keep a config push from exhausting the VM.
const (
	MaxConfigBytes   = 1 << 20
	MaxRules         = 10000
	MaxBodyBytes     = 64 << 10
	MaxAbortHeaders  = 32
	MaxOps           = 32
	MaxHeaderMatches = 32
	MaxMethods       = 16
	MaxStringBytes   = 4096 // match strings, header values, regexes
	MaxSecretBytes   = 256
	MaxActiveFaults  = 1000000
	maxNameBytes     = 64
	maxHeaderName    = 256
	maxTruncate      = 65536
)

// Duration bounds.
const (
	minTick     = time.Millisecond
	maxTick     = time.Second
	minDuration = time.Millisecond
	maxDuration = time.Hour
)

// rootPath names the document itself in problems.
const rootPath = "config"

// Parse validates data and returns the immutable Config it describes. Empty
// input (nothing but whitespace) is a valid config without rules. Any problem
// makes Parse return a nil Config and an *Error listing every problem found,
// in document order.
func Parse(data []byte) (*Config, error) {
	c := &Config{
		Enabled:         true,
		Tick:            DefaultTick,
		MaxActiveFaults: DefaultMaxActiveFaults,
		ResponseHeader:  DefaultResponseHeader,
		HeaderControl:   HeaderControl{MaxDelay: DefaultMaxDelay},
	}
	if len(data) > MaxConfigBytes {
		return nil, &Error{Problems: []string{rootPath + ": must be at most " +
			strconv.Itoa(MaxConfigBytes) + " bytes, got " + strconv.Itoa(len(data)) + " bytes"}}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		c.table = match.Build(nil)
		return c, nil
	}
	if serr := checkJSON(data); serr != nil {
		return nil, &Error{Problems: []string{rootPath + ": invalid JSON at byte offset " +
			strconv.Itoa(serr.offset) + ": " + serr.why + ", got " + serr.got}}
	}
	p := &parser{}
	p.config(gjson.ParseBytes(data), c)
	if len(p.problems) > 0 {
		return nil, &Error{Problems: p.problems}
	}
	conds := make([]match.Conditions, len(c.Rules))
	for i, r := range c.Rules {
		conds[i] = r.Match
	}
	c.table = match.Build(conds)
	return c, nil
}

type parser struct {
	problems []string
}

// fail records "<path>: <why>, got <value>".
func (p *parser) fail(path, why string, v gjson.Result) {
	p.problems = append(p.problems, path+": "+why+", got "+render(v))
}

// failText records "<path>: <why>" when there is no value to show.
func (p *parser) failText(path, why string) {
	p.problems = append(p.problems, path+": "+why)
}

// maxRendered caps how much of a bad value a problem repeats.
const maxRendered = 64

// render shows v as compact JSON, truncated when long.
func render(v gjson.Result) string {
	raw := v.Raw
	if !v.Exists() {
		return "nothing"
	}
	if v.IsObject() || v.IsArray() {
		raw = compact(raw)
	}
	if len(raw) > maxRendered {
		cut := maxRendered
		for cut > 0 && !utf8.RuneStart(raw[cut]) {
			cut--
		}
		raw = raw[:cut] + "..."
	}
	return raw
}

// compact drops the whitespace outside strings.
func compact(raw string) string {
	var b strings.Builder
	inStr, esc := false, false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case inStr:
			if esc {
				esc = false
			} else if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// join appends an object key to a path, quoting keys that are not plain.
func join(path, key string) string {
	plain := key != ""
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			plain = false
			break
		}
	}
	if !plain {
		key = "[" + strconv.Quote(key) + "]"
		if path == "" {
			return key
		}
		return path + key
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// object walks the keys of v in document order and hands each to field,
// which reports whether it knows the key. Unknown and repeated keys are
// problems. It returns false when v is not an object.
func (p *parser) object(path string, v gjson.Result, field func(key, path string, v gjson.Result) bool) bool {
	if !v.IsObject() {
		p.fail(displayPath(path), "must be an object", v)
		return false
	}
	// Most objects have a handful of keys: a small slice finds repeats
	// without allocating a map, which only big objects fall back to.
	var few [16]string
	seenFew := few[:0]
	var seenMany map[string]bool
	v.ForEach(func(k, val gjson.Result) bool {
		key := k.String()
		kp := join(path, key)
		dup := false
		if seenMany != nil {
			dup = seenMany[key]
			seenMany[key] = true
		} else {
			for _, s := range seenFew {
				if s == key {
					dup = true
					break
				}
			}
			if !dup {
				if len(seenFew) < cap(seenFew) {
					seenFew = append(seenFew, key)
				} else {
					seenMany = make(map[string]bool, 2*len(seenFew))
					for _, s := range seenFew {
						seenMany[s] = true
					}
					seenMany[key] = true
				}
			}
		}
		if dup {
			p.failText(kp, "duplicate field")
			return true
		}
		if !field(key, kp, val) {
			p.failText(kp, "unknown field")
		}
		return true
	})
	return true
}

func displayPath(path string) string {
	if path == "" {
		return rootPath
	}
	return path
}

func (p *parser) boolean(path string, v gjson.Result) (bool, bool) {
	if v.Type != gjson.True && v.Type != gjson.False {
		p.fail(path, "must be true or false", v)
		return false, false
	}
	return v.Type == gjson.True, true
}

func (p *parser) str(path string, v gjson.Result) (string, bool) {
	if v.Type != gjson.String {
		p.fail(path, "must be a string", v)
		return "", false
	}
	return v.Str, true
}

// integer accepts a JSON number with no fractional part in [lo, hi].
func (p *parser) integer(path string, v gjson.Result, lo, hi int64) (int64, bool) {
	if v.Type != gjson.Number {
		p.fail(path, "must be an integer", v)
		return 0, false
	}
	if n, err := strconv.ParseInt(v.Raw, 10, 64); err == nil {
		if n < lo || n > hi {
			p.fail(path, "must be in ["+strconv.FormatInt(lo, 10)+", "+strconv.FormatInt(hi, 10)+"]", v)
			return 0, false
		}
		return n, true
	}
	f := v.Num
	if f != math.Trunc(f) {
		p.fail(path, "must be an integer", v)
		return 0, false
	}
	if f < float64(lo) || f > float64(hi) {
		p.fail(path, "must be in ["+strconv.FormatInt(lo, 10)+", "+strconv.FormatInt(hi, 10)+"]", v)
		return 0, false
	}
	return int64(f), true
}

// percent converts a percentage in [0, 100] to parts per million, rejecting
// anything finer than one in a million rather than silently rounding it.
func (p *parser) percent(path string, v gjson.Result) (uint32, bool) {
	if v.Type != gjson.Number {
		p.fail(path, "must be a number", v)
		return 0, false
	}
	f := v.Num
	if !(f >= 0 && f <= 100) {
		p.fail(path, "must be in [0, 100]", v)
		return 0, false
	}
	scaled := f * 10000
	ppm := math.Round(scaled)
	// Percentages come in decimal and float64 cannot hold most of them
	// exactly; 1e-6 ppm is far below float noise and far above the finest
	// resolution users can write.
	if math.Abs(scaled-ppm) > 1e-6 {
		p.fail(path, "must be a multiple of 0.0001 (one in a million)", v)
		return 0, false
	}
	return uint32(ppm), true
}

// duration accepts a Go duration string in [lo, hi].
func (p *parser) duration(path string, v gjson.Result, lo, hi time.Duration, bounds string) (time.Duration, bool) {
	if v.Type != gjson.String {
		p.fail(path, `must be a duration string like "250ms"`, v)
		return 0, false
	}
	d, err := time.ParseDuration(v.Str)
	if err != nil {
		p.fail(path, `must be a duration string like "250ms"`, v)
		return 0, false
	}
	if d < lo || d > hi {
		p.fail(path, "must be in "+bounds, v)
		return 0, false
	}
	return d, true
}

func (p *parser) config(root gjson.Result, c *Config) {
	p.object("", root, func(key, path string, v gjson.Result) bool {
		switch key {
		case "enabled":
			c.Enabled, _ = p.boolean(path, v)
		case "dry_run":
			c.DryRun, _ = p.boolean(path, v)
		case "seed":
			c.Seed, _ = p.seed(path, v)
		case "tick":
			if d, ok := p.duration(path, v, minTick, maxTick, "[1ms, 1s]"); ok {
				c.Tick = d
			}
		case "max_active_faults":
			if n, ok := p.integer(path, v, 1, MaxActiveFaults); ok {
				c.MaxActiveFaults = int(n)
			}
		case "response_header":
			if s, ok := p.str(path, v); ok {
				if s != "" {
					if why := checkHeaderName(s); why != "" {
						p.fail(path, why, v)
						break
					}
				}
				c.ResponseHeader = s
			}
		case "header_control":
			p.headerControl(path, v, &c.HeaderControl)
		case "rules":
			c.Rules = p.rules(path, v)
		default:
			return false
		}
		return true
	})
}

func (p *parser) seed(path string, v gjson.Result) (uint64, bool) {
	if v.Type == gjson.Number {
		if n, err := strconv.ParseUint(v.Raw, 10, 64); err == nil {
			return n, true
		}
	}
	p.fail(path, "must be an integer in [0, 18446744073709551615]", v)
	return 0, false
}

func (p *parser) headerControl(path string, v gjson.Result, hc *HeaderControl) {
	p.object(path, v, func(key, path string, v gjson.Result) bool {
		switch key {
		case "enabled":
			hc.Enabled, _ = p.boolean(path, v)
		case "secret":
			s, ok := p.str(path, v)
			if !ok {
				break
			}
			if len(s) > MaxSecretBytes {
				p.fail(path, "must be at most "+strconv.Itoa(MaxSecretBytes)+" bytes", v)
				break
			}
			// Envoy trims header values, so a secret with spaces could
			// never match; only visible ASCII is allowed.
			for i := 0; i < len(s); i++ {
				if s[i] < 0x21 || s[i] > 0x7e {
					p.fail(path, "must be visible ASCII characters only", v)
					return true
				}
			}
			hc.Secret = s
		case "max_delay":
			if d, ok := p.duration(path, v, minDuration, maxDuration, "[1ms, 1h]"); ok {
				hc.MaxDelay = d
			}
		default:
			return false
		}
		return true
	})
}

func (p *parser) rules(path string, v gjson.Result) []*Rule {
	if !v.IsArray() {
		p.fail(path, "must be an array", v)
		return nil
	}
	items := v.Array()
	if len(items) > MaxRules {
		p.failText(path, "must have at most "+strconv.Itoa(MaxRules)+" rules, got "+strconv.Itoa(len(items))+" rules")
		return nil
	}
	rules := make([]*Rule, 0, len(items))
	names := make(map[string]int, len(items))
	for i, item := range items {
		r := p.rule(index(path, i), i, item, names)
		if r != nil {
			rules = append(rules, r)
		}
	}
	return rules
}

// validName reports whether s is a rule name: [a-z0-9_-]{1,64}. Rule names
// end up in metric names, so they are kept to characters every stats sink
// accepts.
func validName(s string) bool {
	if len(s) == 0 || len(s) > maxNameBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (p *parser) rule(base string, i int, v gjson.Result, names map[string]int) *Rule {
	r := &Rule{Index: i}
	// The name is read first so every problem of the rule can name it, as
	// "rules[2] (payments).abort.http_status", wherever the key sits.
	path := base
	if n := v.Get("name"); v.IsObject() && n.Type == gjson.String && validName(n.Str) {
		path = base + " (" + n.Str + ")"
	}
	before := len(p.problems)
	hasName := false
	ok := p.object(path, v, func(key, kp string, v gjson.Result) bool {
		switch key {
		case "name":
			hasName = true
			s, ok := p.str(join(base, key), v)
			if !ok {
				break
			}
			if !validName(s) {
				p.fail(join(base, key), "must match [a-z0-9_-]{1,64}", v)
				break
			}
			if first, dup := names[s]; dup {
				p.fail(kp, "duplicate rule name, already used by rules["+strconv.Itoa(first)+"]", v)
				break
			}
			names[s] = i
			r.Name = s
		case "match":
			p.conditions(kp, v, &r.Match)
		case "abort":
			r.Abort = p.abort(kp, v)
		case "delay":
			r.Delay = p.delay(kp, v)
		case "corrupt":
			r.Corrupt = p.corrupt(kp, v)
		case "reset":
			r.Reset = p.reset(kp, v)
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	if !hasName {
		p.failText(join(base, "name"), "required")
	}
	if !v.Get("abort").Exists() && !v.Get("delay").Exists() && !v.Get("corrupt").Exists() && !v.Get("reset").Exists() {
		p.failText(path, "must configure at least one fault (abort, delay, corrupt or reset)")
	}
	if len(p.problems) > before {
		return nil
	}
	r.computeTags()
	return r
}

func (p *parser) nonEmpty(path string, v gjson.Result) (string, bool) {
	s, ok := p.str(path, v)
	if !ok {
		return "", false
	}
	if s == "" {
		p.fail(path, "must not be empty", v)
		return "", false
	}
	if len(s) > MaxStringBytes {
		p.fail(path, "must be at most "+strconv.Itoa(MaxStringBytes)+" bytes", v)
		return "", false
	}
	if !printable(s) {
		p.fail(path, "must be printable ASCII (no control characters)", v)
		return "", false
	}
	return s, true
}

func (p *parser) regex(path string, v gjson.Result) (*regexp.Regexp, bool) {
	s, ok := p.nonEmpty(path, v)
	if !ok {
		return nil, false
	}
	re, err := regexp.Compile(s)
	if err != nil {
		p.fail(path, "invalid regular expression: "+err.Error(), v)
		return nil, false
	}
	return re, true
}

func (p *parser) pathValue(path string, v gjson.Result) (string, bool) {
	s, ok := p.nonEmpty(path, v)
	if !ok {
		return "", false
	}
	if s[0] != '/' {
		p.fail(path, `must start with "/"`, v)
		return "", false
	}
	if strings.ContainsAny(s, "?#") {
		p.fail(path, "must not contain a query string or fragment (matching ignores them)", v)
		return "", false
	}
	return s, true
}

func (p *parser) conditions(path string, v gjson.Result, c *match.Conditions) {
	p.object(path, v, func(key, path string, v gjson.Result) bool {
		switch key {
		case "route_name":
			c.RouteName, _ = p.nonEmpty(path, v)
		case "virtual_host":
			c.VirtualHost, _ = p.nonEmpty(path, v)
		case "cluster":
			c.Cluster, _ = p.nonEmpty(path, v)
		case "authority":
			c.Authority, _ = p.nonEmpty(path, v)
		case "path":
			c.Path, _ = p.pathValue(path, v)
		case "prefix":
			c.Prefix, _ = p.pathValue(path, v)
		case "regex":
			c.Regex, _ = p.regex(path, v)
		case "methods":
			c.Methods = p.methods(path, v)
		case "headers":
			c.Headers = p.headerMatchers(path, v)
		default:
			return false
		}
		return true
	})
}

func (p *parser) methods(path string, v gjson.Result) []string {
	if !v.IsArray() {
		p.fail(path, "must be an array of strings", v)
		return nil
	}
	items := v.Array()
	if len(items) == 0 || len(items) > MaxMethods {
		p.fail(path, "must have 1 to "+strconv.Itoa(MaxMethods)+" methods", v)
		return nil
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		ip := index(path, i)
		s, ok := p.str(ip, item)
		if !ok {
			continue
		}
		if !upperToken(s) {
			p.fail(ip, "must be an upper-case method token like \"GET\"", item)
			continue
		}
		out = append(out, s)
	}
	return out
}

var matcherKinds = [...]struct {
	key  string
	kind match.HeaderKind
}{
	{"exact", match.HeaderExact},
	{"prefix", match.HeaderPrefix},
	{"suffix", match.HeaderSuffix},
	{"contains", match.HeaderContains},
	{"regex", match.HeaderRegex},
	{"present", match.HeaderPresent},
}

func (p *parser) headerMatchers(path string, v gjson.Result) []match.HeaderMatcher {
	if !v.IsArray() {
		p.fail(path, "must be an array", v)
		return nil
	}
	items := v.Array()
	if len(items) > MaxHeaderMatches {
		p.fail(path, "must have at most "+strconv.Itoa(MaxHeaderMatches)+" matchers", v)
		return nil
	}
	out := make([]match.HeaderMatcher, 0, len(items))
	for i, item := range items {
		ip := index(path, i)
		var m match.HeaderMatcher
		kinds := 0
		hasName := false
		ok := p.object(ip, item, func(key, kp string, v gjson.Result) bool {
			switch key {
			case "name":
				hasName = true
				s, ok := p.str(kp, v)
				if !ok {
					break
				}
				if why := checkMatchHeaderName(s); why != "" {
					p.fail(kp, why, v)
					break
				}
				m.Name = s
			case "invert":
				m.Invert, _ = p.boolean(kp, v)
			case "present":
				kinds++
				m.Kind = match.HeaderPresent
				m.Present, _ = p.boolean(kp, v)
			case "regex":
				kinds++
				m.Kind = match.HeaderRegex
				m.Regex, _ = p.regex(kp, v)
			case "exact", "prefix", "suffix", "contains":
				kinds++
				for _, mk := range matcherKinds {
					if mk.key == key {
						m.Kind = mk.kind
					}
				}
				s, ok := p.str(kp, v)
				if !ok {
					break
				}
				if s == "" && key != "exact" {
					p.fail(kp, "must not be empty", v)
					break
				}
				if why := checkHeaderValue(s); why != "" {
					p.fail(kp, why, v)
					break
				}
				m.Value = s
			default:
				return false
			}
			return true
		})
		if !ok {
			continue
		}
		if !hasName {
			p.failText(join(ip, "name"), "required")
		}
		if kinds != 1 {
			p.fail(ip, "must have exactly one of exact, prefix, suffix, contains, regex, present", item)
		}
		out = append(out, m)
	}
	return out
}

func (p *parser) abort(path string, v gjson.Result) *Abort {
	a := &Abort{HTTPStatus: DefaultHTTPStatus, GRPCStatus: -1, Body: []byte(DefaultAbortBody)}
	hasPercent := false
	ok := p.object(path, v, func(key, path string, v gjson.Result) bool {
		switch key {
		case "percent":
			hasPercent = true
			a.PPM, _ = p.percent(path, v)
		case "http_status":
			if n, ok := p.integer(path, v, 200, 599); ok {
				a.HTTPStatus = uint32(n)
			}
		case "grpc_status":
			if n, ok := p.integer(path, v, 0, 16); ok {
				a.GRPCStatus = int32(n)
			}
		case "body":
			s, ok := p.str(path, v)
			if !ok {
				break
			}
			if len(s) > MaxBodyBytes {
				p.failText(path, "must be at most "+strconv.Itoa(MaxBodyBytes)+" bytes, got "+strconv.Itoa(len(s))+" bytes")
				break
			}
			a.Body = []byte(s)
		case "headers":
			a.Headers = p.abortHeaders(path, v)
		default:
			return false
		}
		return true
	})
	if ok && !hasPercent {
		p.failText(join(path, "percent"), "required")
	}
	return a
}

func (p *parser) abortHeaders(path string, v gjson.Result) [][2]string {
	if !v.IsObject() {
		p.fail(path, "must be an object of header names to string values", v)
		return nil
	}
	var out [][2]string
	count := 0
	p.object(path, v, func(key, kp string, v gjson.Result) bool {
		count++
		if count == MaxAbortHeaders+1 {
			p.failText(path, "must have at most "+strconv.Itoa(MaxAbortHeaders)+" headers")
		}
		if why := checkHeaderName(key); why != "" {
			p.failText(kp, why+", got "+strconv.Quote(key))
			return true
		}
		s, ok := p.str(kp, v)
		if !ok {
			return true
		}
		if why := checkHeaderValue(s); why != "" {
			p.fail(kp, why, v)
			return true
		}
		out = append(out, [2]string{key, s})
		return true
	})
	return out
}

func (p *parser) delay(path string, v gjson.Result) *Delay {
	d := &Delay{Phase: PhaseRequest}
	hasPercent, hasFixed := false, false
	ok := p.object(path, v, func(key, path string, v gjson.Result) bool {
		switch key {
		case "percent":
			hasPercent = true
			d.PPM, _ = p.percent(path, v)
		case "fixed":
			hasFixed = true
			d.Fixed, _ = p.duration(path, v, minDuration, maxDuration, "[1ms, 1h]")
		case "jitter":
			d.Jitter, _ = p.duration(path, v, 0, maxDuration, "[0s, 1h]")
		case "phase":
			s, ok := p.str(path, v)
			if !ok {
				break
			}
			switch s {
			case "request":
				d.Phase = PhaseRequest
			case "response":
				d.Phase = PhaseResponse
			default:
				p.fail(path, `must be "request" or "response"`, v)
			}
		default:
			return false
		}
		return true
	})
	if ok && !hasPercent {
		p.failText(join(path, "percent"), "required")
	}
	if ok && !hasFixed {
		p.failText(join(path, "fixed"), "required")
	}
	return d
}

func (p *parser) corrupt(path string, v gjson.Result) *Corrupt {
	c := &Corrupt{}
	hasPercent := false
	ok := p.object(path, v, func(key, kp string, v gjson.Result) bool {
		switch key {
		case "percent":
			hasPercent = true
			c.PPM, _ = p.percent(kp, v)
		case "request":
			c.Request = p.ops(kp, v, false)
		case "response":
			c.Response = p.ops(kp, v, true)
		default:
			return false
		}
		return true
	})
	if !ok {
		return c
	}
	if !hasPercent {
		p.failText(join(path, "percent"), "required")
	}
	if !v.Get("request").Exists() && !v.Get("response").Exists() {
		p.failText(path, "must have at least one op in request or response")
	}
	return c
}

func (p *parser) reset(path string, v gjson.Result) *Reset {
	r := &Reset{}
	hasPercent := false
	ok := p.object(path, v, func(key, path string, v gjson.Result) bool {
		if key != "percent" {
			return false
		}
		hasPercent = true
		r.PPM, _ = p.percent(path, v)
		return true
	})
	if ok && !hasPercent {
		p.failText(join(path, "percent"), "required")
	}
	return r
}

func opKind(s string) OpKind {
	for k, n := range opNames {
		if n != "" && n == s {
			return OpKind(k)
		}
	}
	return 0
}

func (p *parser) ops(path string, v gjson.Result, response bool) []HeaderOp {
	if !v.IsArray() {
		p.fail(path, "must be an array of ops", v)
		return nil
	}
	items := v.Array()
	if len(items) == 0 || len(items) > MaxOps {
		p.fail(path, "must have 1 to "+strconv.Itoa(MaxOps)+" ops", v)
		return nil
	}
	out := make([]HeaderOp, 0, len(items))
	for i, item := range items {
		if op, ok := p.op(index(path, i), item, response); ok {
			out = append(out, op)
		}
	}
	return out
}

// pseudoSettable lists the request pseudo-headers an op may set or append.
// Removing or emptying a pseudo-header would make the request invalid, and
// :status is changed with the status op.
var pseudoSettable = map[string]bool{":path": true, ":method": true, ":authority": true, ":scheme": true}

// op validates one header op. The op kind decides which other keys are
// required or allowed, so it is read first; keys are still checked in
// document order.
func (p *parser) op(path string, v gjson.Result, response bool) (HeaderOp, bool) {
	var op HeaderOp
	if !v.IsObject() {
		p.fail(path, "must be an object", v)
		return op, false
	}
	before := len(p.problems)
	kv := v.Get("op")
	if kv.Type == gjson.String {
		op.Kind = opKind(kv.Str)
	}
	hasName, hasValue, hasLength := false, false, false
	p.object(path, v, func(key, kp string, v gjson.Result) bool {
		switch key {
		case "op":
			if _, ok := p.str(kp, v); !ok {
				break
			}
			switch {
			case op.Kind == 0:
				p.fail(kp, "must be one of remove, set, append, empty, truncate, garble, status", v)
			case op.Kind == OpStatus && !response:
				p.fail(kp, "status is only allowed in response ops", v)
			}
		case "name":
			hasName = true
			s, ok := p.str(kp, v)
			if !ok {
				break
			}
			if op.Kind == OpStatus {
				p.fail(kp, "not allowed with op status (it always sets :status)", v)
				break
			}
			if strings.HasPrefix(s, ":") {
				switch {
				case response || !pseudoSettable[s]:
					p.fail(kp, "pseudo-header not allowed here (request ops may set or append :path, :method, :authority, :scheme; use op status for :status)", v)
				case op.Kind != 0 && op.Kind != OpSet && op.Kind != OpAppend:
					p.fail(kp, "pseudo-header only allowed with op set or append", v)
				default:
					op.Name = s
				}
				break
			}
			if why := checkHeaderName(s); why != "" {
				p.fail(kp, why, v)
				break
			}
			op.Name = s
		case "value":
			hasValue = true
			if op.Kind != 0 && op.Kind != OpSet && op.Kind != OpAppend && op.Kind != OpStatus {
				p.fail(kp, "not allowed with op "+op.Kind.String(), v)
				break
			}
			if op.Kind == OpStatus {
				op.Value, _ = p.statusValue(kp, v)
				break
			}
			s, ok := p.str(kp, v)
			if !ok {
				break
			}
			if why := checkHeaderValue(s); why != "" {
				p.fail(kp, why, v)
				break
			}
			op.Value = s
		case "length":
			hasLength = true
			if op.Kind != 0 && op.Kind != OpTruncate {
				p.fail(kp, "only allowed with op truncate", v)
				break
			}
			if n, ok := p.integer(kp, v, 0, maxTruncate); ok {
				op.Length = int(n)
			}
		default:
			return false
		}
		return true
	})
	if !kv.Exists() {
		p.failText(join(path, "op"), "required")
	}
	if op.Kind != 0 {
		if op.Kind != OpStatus && !hasName {
			p.failText(join(path, "name"), "required")
		}
		if (op.Kind == OpSet || op.Kind == OpAppend || op.Kind == OpStatus) && !hasValue {
			p.failText(join(path, "value"), "required")
		}
		if op.Kind == OpTruncate && !hasLength {
			p.failText(join(path, "length"), "required")
		}
		if strings.HasPrefix(op.Name, ":") && op.Value == "" && hasValue {
			p.failText(join(path, "value"), "must not be empty for a pseudo-header")
		}
	}
	if op.Kind == OpStatus {
		op.Name = ":status"
	}
	return op, len(p.problems) == before
}

// statusValue accepts the new :status as a number or a decimal string, both
// in [200, 599], and returns it as the decimal string the header carries.
func (p *parser) statusValue(path string, v gjson.Result) (string, bool) {
	const why = "must be an HTTP status in [200, 599], as a number or a string"
	switch v.Type {
	case gjson.Number:
		n, err := strconv.Atoi(v.Raw)
		if err == nil && n >= 200 && n <= 599 {
			return v.Raw, true
		}
	case gjson.String:
		n, err := strconv.Atoi(v.Str)
		if err == nil && n >= 200 && n <= 599 && len(v.Str) == 3 {
			return v.Str, true
		}
	}
	p.fail(path, why, v)
	return "", false
}

// isTchar reports whether c is an RFC 9110 token character.
func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// checkHeaderName returns why s is not a lowercase, non-pseudo header name,
// or "".
func checkHeaderName(s string) string {
	if s == "" {
		return "must be a header name, not empty"
	}
	if len(s) > maxHeaderName {
		return "must be at most " + strconv.Itoa(maxHeaderName) + " bytes"
	}
	if s[0] == ':' {
		return "must not be a pseudo-header"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			return "must be lowercase (HTTP/2 header names are)"
		}
		if !isTchar(c) {
			return "must be a header name token (letters, digits and !#$%&'*+-.^_`|~)"
		}
	}
	return ""
}

// checkMatchHeaderName accepts header names and request pseudo-headers,
// which a matcher may read.
func checkMatchHeaderName(s string) string {
	if strings.HasPrefix(s, ":") {
		if why := checkHeaderName(s[1:]); why != "" && s != ":" {
			return why
		}
		if s == ":" {
			return "must be a header name token (letters, digits and !#$%&'*+-.^_`|~)"
		}
		return ""
	}
	return checkHeaderName(s)
}

// printable reports whether s holds only visible ASCII, space and tab: the
// bytes Envoy accepts in a header value.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\t') || c > 0x7e {
			return false
		}
	}
	return true
}

func checkHeaderValue(s string) string {
	if len(s) > MaxStringBytes {
		return "must be at most " + strconv.Itoa(MaxStringBytes) + " bytes"
	}
	if !printable(s) {
		return "must be printable ASCII (visible characters, space or tab)"
	}
	return ""
}

func upperToken(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'a' && c <= 'z') || !isTchar(c) {
			return false
		}
	}
	return true
}

package config

import (
	"bytes"
	"strconv"
	"time"

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
		return nil, &Error{Problems: []string{rootPath + ": " + serr.problem(data)}}
	}
	p := &parser{}
	p.config(gjson.ParseBytes(data), c)
	if len(p.problems) > 0 {
		return nil, &Error{Problems: p.problems}
	}
	seedSamples(c)
	conds := make([]match.Conditions, len(c.Rules))
	for i, r := range c.Rules {
		conds[i] = r.Match
	}
	c.table = match.Build(conds)
	return c, nil
}

type parser struct {
	problems []string
	paths    pathArena
	// regexInsts counts the program instructions of every regular
	// expression so far, against MaxRegexBudget.
	regexInsts int
	// regexBytes counts the bytes of every regular expression so far,
	// against MaxRegexSource.
	regexBytes int
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
					if why := checkWritableName(s); why != "" {
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
		case "expires":
			if t, ok := p.instant(path, v); ok {
				c.Expires, c.ExpiresText = t, v.Str
			}
		default:
			return false
		}
		return true
	})
}

func (p *parser) seed(path string, v gjson.Result) (uint64, bool) {
	if v.Type == gjson.Number && !plainInteger(v.Raw) {
		p.fail(path, whyInteger, v)
		return 0, false
	}
	if v.Type == gjson.Number {
		if n, err := strconv.ParseUint(v.Raw, 10, 64); err == nil {
			return n, true
		}
	}
	p.fail(path, "must be an integer in [0, 18446744073709551615]", v)
	return 0, false
}

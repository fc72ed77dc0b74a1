package config

import (
	"strconv"

	"github.com/tidwall/gjson"
)

// Missing says what a sticky rule does with a request that lacks its key.
type Missing uint8

// What happens to a request without the sampling key.
const (
	// MissingRandom draws the request's faults at random, as without
	// sample_by.
	MissingRandom Missing = iota
	// MissingSkip never faults the request (it still counts as matched).
	MissingSkip
)

// Sample is a rule's sticky sampling (sample_by): each fault is drawn from a
// hash of the seed, the rule name, the fault kind and the value of a request
// header or cookie, so one key is always in or always out while the
// configuration holds.
type Sample struct {
	// Header is the request header whose first value is the key, or "".
	Header string
	// Cookie is the cookie of the cookie request header whose value is the
	// key, or "" when Header is set.
	Cookie  string
	Missing Missing
	// Salt is, per fault kind in draw order (delay, abort, corrupt, reset),
	// the FNV-1a state after hashing the configured seed, the rule name and
	// the kind: the request path continues the hash over the key only.
	// The configured seed is used as written, 0 included, and never host
	// entropy: every worker and every VM must choose the same keys.
	Salt [4]uint64
	// DuplicateSalt is Salt for the duplicate fault (kind 4), drawn apart
	// from the four above.
	DuplicateSalt uint64
}

// Sample kinds, indexes of Sample.Salt.
const (
	SaltDelay = iota
	SaltAbort
	SaltCorrupt
	SaltReset
	// SaltDuplicate is the kind hashed into Sample.DuplicateSalt.
	SaltDuplicate
)

// FNV-1a 64-bit parameters; fault continues the same hash over the key.
const (
	FNVOffset uint64 = 14695981039346656037
	FNVPrime  uint64 = 1099511628211
)

// maxCookieName bounds a cookie name, like a header name.
const maxCookieName = maxHeaderName

func (p *parser) sample(path string, v gjson.Result) *Sample {
	s := &Sample{}
	keys := 0
	ok := p.object(path, v, func(key, kp string, v gjson.Result) bool {
		switch key {
		case "header":
			keys++
			name, ok := p.str(kp, v)
			if !ok {
				break
			}
			if why := checkMatchHeaderName(name); why != "" {
				p.fail(kp, why, v)
				break
			}
			s.Header = name
		case "cookie":
			keys++
			name, ok := p.str(kp, v)
			if !ok {
				break
			}
			if why := checkCookieName(name); why != "" {
				p.fail(kp, why, v)
				break
			}
			s.Cookie = name
		case "missing":
			m, ok := p.str(kp, v)
			switch {
			case !ok:
			case m == "random":
				s.Missing = MissingRandom
			case m == "skip":
				s.Missing = MissingSkip
			default:
				p.fail(kp, `must be "random" or "skip"`, v)
			}
		default:
			return false
		}
		return true
	})
	if ok && keys != 1 {
		p.fail(path, "must have exactly one of header or cookie", v)
	}
	return s
}

// checkCookieName accepts an RFC 6265 cookie name: a token, case-sensitive.
func checkCookieName(s string) string {
	if s == "" {
		return "must be a cookie name, not empty"
	}
	if len(s) > maxCookieName {
		return "must be at most " + strconv.Itoa(maxCookieName) + " bytes"
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return "must be a cookie name token (letters, digits and !#$%&'*+-.^_`|~)"
		}
	}
	return ""
}

// seedSamples computes the salts of every sticky rule once the seed is known
// (it may come after the rules in the document).
func seedSamples(c *Config) {
	for _, r := range c.Rules {
		if r.Sample == nil {
			continue
		}
		for kind := range r.Sample.Salt {
			r.Sample.Salt[kind] = salt(c.Seed, r.Name, kind)
		}
		r.Sample.DuplicateSalt = salt(c.Seed, r.Name, SaltDuplicate)
	}
}

// salt is the FNV-1a state after the seed, the rule name and the kind.
func salt(seed uint64, name string, kind int) uint64 {
	h := FNVOffset
	for i := 0; i < 8; i++ {
		h = (h ^ (seed >> (8 * i) & 0xff)) * FNVPrime
	}
	h = fnv(h, name)
	// A byte no rule name holds ends the name, so "a" with kind 1 never
	// hashes like a name "a\x01".
	h = (h ^ 0xff) * FNVPrime
	return (h ^ uint64(kind)) * FNVPrime
}

func fnv(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * FNVPrime
	}
	return h
}

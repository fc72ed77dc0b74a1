package fault

import (
	"strings"

	"github.com/nedry-chaos/nedry/filter/internal/config"
)

// DecideSticky draws the faults of rule, whose Sample is set, at rates (as
// DecideRates), for a request whose sampling key is key (found false when
// the request has none).
//
// It consumes exactly four values from r, as Decide does, keyed or not, so
// the random sequence stays aligned with a fixed seed whatever the requests
// carry. With a key, each configured fault compares its rate with a hash of
// the seed, the rule name, the fault kind and the key (config.Sample.Salt
// continued over the key) instead of its random value: the same key gets
// the same decisions on every request, worker and push of the same
// configuration, and the kinds are drawn independently. The delay jitter
// still comes from the random delay draw. An empty key counts as missing.
// DecideSticky does not allocate.
func DecideSticky(rule *config.Rule, rates *[4]uint32, r *Rand, key string, found bool) Decision {
	x := r.Uint64()
	pa, pc, pr := r.PPM(), r.PPM(), r.PPM()
	smp := rule.Sample
	if !found || key == "" {
		if smp.Missing == config.MissingSkip {
			return Decision{Rule: rule}
		}
		return decide(rule, rates, ppmOf(x), uint32(x), pa, pc, pr)
	}
	pd := ppmOf(x)
	// A fault the rule does not configure has rate 0: its hash is not
	// worth computing.
	if rule.Delay != nil {
		pd = stickyPPM(smp.Salt[config.SaltDelay], key)
	}
	if rule.Abort != nil {
		pa = stickyPPM(smp.Salt[config.SaltAbort], key)
	}
	if rule.Corrupt != nil {
		pc = stickyPPM(smp.Salt[config.SaltCorrupt], key)
	}
	if rule.Reset != nil {
		pr = stickyPPM(smp.Salt[config.SaltReset], key)
	}
	return decide(rule, rates, pd, uint32(x), pa, pc, pr)
}

// stickyPPM continues the FNV-1a hash salt over key and maps it onto
// [0, 1e6). FNV-1a's last multiply leaves the high bits, which ppmOf reads,
// poorly mixed for short keys that differ in their last byte, so the state
// goes through splitmix64's finalizer first.
func stickyPPM(salt uint64, key string) uint32 {
	h := salt
	for i := 0; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * config.FNVPrime
	}
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9
	h = (h ^ (h >> 27)) * 0x94d049bb133111eb
	return ppmOf(h ^ (h >> 31))
}

// Cookie returns the value of the cookie named name in value, one cookie
// request header ("a=1; b=2"), without allocating. Pairs are separated by
// ';' with optional spaces or tabs around them; the first pair with that
// exact (case-sensitive) name wins; a value in double quotes is returned
// without them. Malformed pairs (no '=') are skipped, never errors: the
// header is untrusted input.
func Cookie(value, name string) (string, bool) {
	for len(value) > 0 {
		pair := value
		if i := strings.IndexByte(value, ';'); i >= 0 {
			pair, value = value[:i], value[i+1:]
		} else {
			value = ""
		}
		pair = trimSpace(pair)
		eq := strings.IndexByte(pair, '=')
		if eq < 0 || trimSpace(pair[:eq]) != name {
			continue
		}
		v := trimSpace(pair[eq+1:])
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		return v, true
	}
	return "", false
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

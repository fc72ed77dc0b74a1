package config

import (
	"strconv"

	"github.com/tidwall/gjson"
)

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
		r := p.rule(path, i, item, names)
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

// rule parses rules[i], the array being at arr.
func (p *parser) rule(arr string, i int, v gjson.Result, names map[string]int) *Rule {
	r := &Rule{Index: i}
	// The name is read first so every problem of the rule can name it, as
	// "rules[2] (payments).abort.http_status", wherever the key sits.
	name := ""
	if n := firstField(v, "name"); v.IsObject() && n.Type == gjson.String && validName(n.Str) {
		name = n.Str
	}
	base, path := p.paths.indexNamed(arr, i, name)
	before := len(p.problems)
	hasName, hasFault := false, false
	ok := p.object(path, v, func(key, kp string, v gjson.Result) bool {
		switch key {
		case "name":
			// kp is base + ".name" whenever it is shown: a name that is
			// not a string or not valid left path at base. This field is
			// the first "name", the one read above; a second is a
			// duplicate field.
			hasName = true
			s, ok := p.str(kp, v)
			if !ok {
				break
			}
			if !validName(s) {
				p.fail(kp, "must match [a-z0-9_-]{1,64}", v)
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
			hasFault = true
			r.Abort = p.abort(kp, v)
		case "delay":
			hasFault = true
			r.Delay = p.delay(kp, v)
		case "corrupt":
			hasFault = true
			r.Corrupt = p.corrupt(kp, v)
		case "reset":
			hasFault = true
			r.Reset = p.reset(kp, v)
		case "duplicate":
			hasFault = true
			r.Duplicate = p.duplicate(kp, v)
		case "active":
			r.Active = p.active(kp, v)
		case "halt":
			r.Halt = p.halt(kp, v)
		case "sample_by":
			r.Sample = p.sample(kp, v)
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
	if !hasFault {
		p.failText(path, "must configure at least one fault (abort, delay, corrupt, reset or duplicate)")
	}
	if len(p.problems) > before {
		return nil
	}
	r.computeTags()
	r.startRamps()
	return r
}

// firstField is v.Get(key) for an object v and a key without wildcards,
// dots or escapes: the value of the first field named key, or nothing.
// Get parses key as a path first, for every rule.
func firstField(v gjson.Result, key string) gjson.Result {
	var found gjson.Result
	v.ForEach(func(k, val gjson.Result) bool {
		if k.Str == key {
			found = val
			return false
		}
		return true
	})
	return found
}

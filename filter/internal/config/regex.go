package config

import (
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// Regular expressions are the one condition whose cost a configuration
// chooses. Go's regexp has no DFA: a failed search costs up to the input
// length times the program's instructions, at about 85 ns per step inside
// the guest (measured in host-test: a 103-instruction program on a 1 KiB
// path, 8.9 ms). Three bounds keep every accepted configuration cheap
// enough to load and to match:
//   - MaxRegexProgram per expression, the Go counterpart of Envoy's safe
//     regex max_program_size (100 by default, counted on RE2's program);
//   - MaxRegexBudget over every expression of the configuration, so the
//     worst request (all of them fail on the longest input) is bounded and
//     so are configure time and memory;
//   - match.MaxRegexInput on the input, enforced by the matcher.
//
// Parsing has a cost of its own, before any program exists. Unicode tables
// make it large: Go's parser merges alternated classes and case-folds
// ranges rune by rune, so 512 bytes of [\pL\pN]|... take 9 ms natively and
// 0.45 s in the guest, (?i)[\x{80}-\x{10FFFF}]|... 184 ms natively. Paths
// and header values are ASCII, so expressions are too (asciiOnly): no
// \p or \P classes, no escapes above \x7f. What remains parses in at most
// about 0.25 ms per 512 bytes natively. MaxRegexBytes and MaxRegexSource
// then bound the text parsed per expression and per configuration; past
// MaxRegexSource nothing more is parsed.
const (
	// MaxRegexBytes caps the length of one expression.
	MaxRegexBytes = 512
	// MaxRegexSource caps the length of all expressions together.
	MaxRegexSource = 2048
	// MaxRegexProgram caps the instructions of one compiled expression.
	MaxRegexProgram = 100
	// MaxRegexBudget caps the instructions of all expressions together.
	MaxRegexBudget = 200
	// regexGuard bounds the estimate checked before the expression is
	// expanded and compiled: x{1000} nested in a 4 KB pattern would
	// otherwise expand to millions of nodes just to be refused.
	regexGuard = 10 * MaxRegexProgram
)

const whyRegexLarge = "regular expression too large: its program has "

func (p *parser) regex(path string, v gjson.Result) (*regexp.Regexp, bool) {
	s, ok := p.nonEmpty(path, v)
	if !ok {
		return nil, false
	}
	if len(s) > MaxRegexBytes {
		p.fail(path, "must be at most "+strconv.Itoa(MaxRegexBytes)+" bytes", v)
		return nil, false
	}
	if why := asciiOnly(s); why != "" {
		p.fail(path, why, v)
		return nil, false
	}
	p.regexBytes += len(s)
	if p.regexBytes > MaxRegexSource {
		p.fail(path, "regular expressions exceed the configuration's budget of "+strconv.Itoa(MaxRegexSource)+
			" bytes of pattern in all: this one ("+strconv.Itoa(len(s))+") brings the total to "+strconv.Itoa(p.regexBytes), v)
		return nil, false
	}
	tree, err := syntax.Parse(s, syntax.Perl)
	if err != nil {
		p.fail(path, "invalid regular expression: "+err.Error(), v)
		return nil, false
	}
	max := " instructions, at most " + strconv.Itoa(MaxRegexProgram)
	if regexEstimate(tree) > regexGuard {
		p.fail(path, whyRegexLarge+"more than "+strconv.Itoa(regexGuard)+max, v)
		return nil, false
	}
	prog, err := syntax.Compile(tree.Simplify())
	if err != nil {
		p.fail(path, "invalid regular expression: "+err.Error(), v)
		return nil, false
	}
	n := len(prog.Inst)
	if n > MaxRegexProgram {
		p.fail(path, whyRegexLarge+strconv.Itoa(n)+max, v)
		return nil, false
	}
	p.regexInsts += n
	if p.regexInsts > MaxRegexBudget {
		p.fail(path, "regular expressions exceed the configuration's budget of "+strconv.Itoa(MaxRegexBudget)+
			" instructions in all: this one ("+strconv.Itoa(n)+") brings the total to "+strconv.Itoa(p.regexInsts), v)
		return nil, false
	}
	re, err := regexp.Compile(s)
	if err != nil {
		p.fail(path, "invalid regular expression: "+err.Error(), v)
		return nil, false
	}
	return re, true
}

// regexEstimate is an upper bound, close in practice, of the instructions
// tree compiles to, computed without expanding repeats. It saturates far
// above regexGuard.
func regexEstimate(re *syntax.Regexp) int {
	const ceiling = 1 << 30
	sat := func(n int) int {
		if n > ceiling {
			return ceiling
		}
		return n
	}
	sub := 0
	for _, s := range re.Sub {
		sub = sat(sub + regexEstimate(s))
	}
	switch re.Op {
	case syntax.OpLiteral:
		return max(len(re.Rune), 1)
	case syntax.OpCapture:
		return sat(sub + 2)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		return sat(sub + 1)
	case syntax.OpRepeat:
		times := re.Max
		if times < 0 {
			times = re.Min + 1
		}
		return sat(sat(times*sub) + times + 1)
	case syntax.OpConcat, syntax.OpAlternate:
		return sat(sub + len(re.Sub))
	}
	return sat(sub + 1)
}

// whyASCII is the problem of an expression that reaches beyond ASCII.
const whyASCII = `must be ASCII-only: no \p or \P classes and no escapes above \x7f (paths and header values are ASCII)`

// asciiOnly returns whyASCII when s uses a Unicode class or an escape for a
// rune above 0x7f, or "". The config's strings are printable ASCII already,
// so escapes are the only way to reach further.
func asciiOnly(s string) string {
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		i++
		switch c := s[i]; {
		case c == 'p' || c == 'P':
			return whyASCII
		case c == 'x':
			digits := ""
			if i+1 < len(s) && s[i+1] == '{' {
				end := strings.IndexByte(s[i+1:], '}')
				if end < 0 {
					return "" // the parser reports it
				}
				digits = s[i+2 : i+1+end]
			} else if i+2 < len(s) {
				digits = s[i+1 : i+3]
			}
			if n, err := strconv.ParseUint(digits, 16, 32); err == nil && n > 0x7f || len(digits) > 6 {
				return whyASCII
			}
		case c >= '0' && c <= '7':
			j := i
			for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			if n, _ := strconv.ParseUint(s[i:j], 8, 32); n > 0x7f {
				return whyASCII
			}
		}
	}
	return ""
}

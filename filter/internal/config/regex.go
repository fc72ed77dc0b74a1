package config

import (
	"regexp"
	"regexp/syntax"
	"strconv"

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
const (
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

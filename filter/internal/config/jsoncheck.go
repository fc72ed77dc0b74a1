package config

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// maxDepth bounds JSON nesting. The deepest valid config nests four levels;
// the bound keeps a hostile push from exhausting the guest's stack.
const maxDepth = 32

// syntaxError is the first JSON syntax problem in a document.
type syntaxError struct {
	offset int
	why    string
	got    string
}

// problem is the text of the error for data, the document it was found in:
// "invalid JSON at line 3, column 14 (byte offset 52): expected ',' or '}',
// got 'x'". Lines and columns count from 1, as editors show them; a column
// counts characters (UTF-8 sequences, an invalid byte as one, a tab as one)
// so it lands where an editor puts the cursor, and the byte offset, from 0,
// is there for tools.
func (e *syntaxError) problem(data []byte) string {
	line, col := position(data, e.offset)
	return "invalid JSON at line " + strconv.Itoa(line) + ", column " + strconv.Itoa(col) +
		" (byte offset " + strconv.Itoa(e.offset) + "): " + e.why + ", got " + e.got
}

// position returns the 1-based line and column of byte offset in data. Only
// '\n' ends a line, so a "\r\n" ending counts once and its '\r' is the last
// character of its line.
func position(data []byte, offset int) (line, col int) {
	offset = min(offset, len(data))
	start := bytes.LastIndexByte(data[:offset], '\n') + 1
	return bytes.Count(data[:start], []byte{'\n'}) + 1, utf8.RuneCount(data[start:offset]) + 1
}

// checkJSON reports the first syntax error in data, or nil when data is one
// valid JSON value (RFC 8259, UTF-8 strings) surrounded by whitespace.
//
// gjson does not validate what it reads and its Valid says only yes or no;
// this scanner exists to tell the user where the document breaks.
func checkJSON(data []byte) *syntaxError {
	s := scanner{data: data}
	s.skipSpace()
	if s.pos == len(data) {
		return &syntaxError{offset: s.pos, why: "expected a value", got: "end of input"}
	}
	if err := s.value(0); err != nil {
		return err
	}
	s.skipSpace()
	if s.pos != len(data) {
		return s.fail("expected end of input")
	}
	return nil
}

type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// fail describes the byte at the current position.
func (s *scanner) fail(why string) *syntaxError {
	if s.pos >= len(s.data) {
		return &syntaxError{offset: s.pos, why: why, got: "end of input"}
	}
	c := s.data[s.pos]
	got := "byte 0x" + string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15])
	if c >= 0x20 && c < 0x7f {
		got = "'" + string(rune(c)) + "'"
	}
	return &syntaxError{offset: s.pos, why: why, got: got}
}

func (s *scanner) value(depth int) *syntaxError {
	if s.pos >= len(s.data) {
		return s.fail("expected a value")
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		return s.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return s.fail("expected a value")
}

func (s *scanner) literal(lit string) *syntaxError {
	for i := 0; i < len(lit); i++ {
		if s.pos >= len(s.data) || s.data[s.pos] != lit[i] {
			return s.fail("expected " + lit)
		}
		s.pos++
	}
	return nil
}

func (s *scanner) object(depth int) *syntaxError {
	if depth > maxDepth {
		return s.fail("nesting deeper than 32 levels")
	}
	s.pos++ // {
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return s.fail("expected a string key")
		}
		if err := s.str(); err != nil {
			return err
		}
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.fail("expected ':'")
		}
		s.pos++
		s.skipSpace()
		if err := s.value(depth); err != nil {
			return err
		}
		s.skipSpace()
		if s.pos < len(s.data) && s.data[s.pos] == ',' {
			s.pos++
			s.skipSpace()
			continue
		}
		if s.pos < len(s.data) && s.data[s.pos] == '}' {
			s.pos++
			return nil
		}
		return s.fail("expected ',' or '}'")
	}
}

func (s *scanner) array(depth int) *syntaxError {
	if depth > maxDepth {
		return s.fail("nesting deeper than 32 levels")
	}
	s.pos++ // [
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for {
		if err := s.value(depth); err != nil {
			return err
		}
		s.skipSpace()
		if s.pos < len(s.data) && s.data[s.pos] == ',' {
			s.pos++
			s.skipSpace()
			continue
		}
		if s.pos < len(s.data) && s.data[s.pos] == ']' {
			s.pos++
			return nil
		}
		return s.fail("expected ',' or ']'")
	}
}

func (s *scanner) str() *syntaxError {
	s.pos++ // opening quote
	for {
		if s.pos >= len(s.data) {
			return s.fail("unterminated string")
		}
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return nil
		case c == '\\':
			s.pos++
			if s.pos >= len(s.data) {
				return s.fail("unterminated string")
			}
			switch s.data[s.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos++
			case 'u':
				s.pos++
				for i := 0; i < 4; i++ {
					if s.pos >= len(s.data) || !isHex(s.data[s.pos]) {
						return s.fail("expected a hex digit in \\u escape")
					}
					s.pos++
				}
			default:
				return s.fail("invalid escape")
			}
		case c < 0x20:
			return s.fail("control character in string")
		case c < utf8.RuneSelf:
			s.pos++
		default:
			r, n := utf8.DecodeRune(s.data[s.pos:])
			if r == utf8.RuneError && n <= 1 {
				return s.fail("invalid UTF-8 in string")
			}
			s.pos += n
		}
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (s *scanner) digits() int {
	n := 0
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
		n++
	}
	return n
}

func (s *scanner) number() *syntaxError {
	if s.data[s.pos] == '-' {
		s.pos++
	}
	if s.pos < len(s.data) && s.data[s.pos] == '0' {
		s.pos++
	} else if s.digits() == 0 {
		return s.fail("expected a digit")
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return s.fail("expected a digit after '.'")
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return s.fail("expected a digit in exponent")
		}
	}
	return nil
}

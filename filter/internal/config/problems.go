package config

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

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
	if !plainKey(key) {
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

// plainKey reports whether key can follow a dot in a path unquoted.
func plainKey(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// pathArena builds the paths the parser hands down to every value, as join
// and index do, into shared chunks instead of one allocation each: almost
// every path is built and never shown, since only a problem prints one.
// Configuring 1,000 rules built about 9,000 of them, most of the guest's
// allocations in Parse (BenchmarkParse/rules_1000, BenchmarkConfigure).
// A path stays valid for as long as it is referenced: a chunk is only ever
// appended to (strings.Builder never rewrites bytes it has handed out),
// and a full chunk is left to the strings that point into it.
type pathArena struct {
	b strings.Builder
}

// pathChunk is the size of one chunk: 1,000 rules take about 32 of them.
const pathChunk = 8 << 10

func (a *pathArena) room(n int) {
	if a.b.Cap()-a.b.Len() < n {
		a.b = strings.Builder{}
		a.b.Grow(max(n, pathChunk))
	}
}

// join is join(path, key) written into the arena.
func (a *pathArena) join(path, key string) string {
	if !plainKey(key) {
		return join(path, key)
	}
	if path == "" {
		return key
	}
	a.room(len(path) + 1 + len(key))
	start := a.b.Len()
	a.b.WriteString(path)
	a.b.WriteByte('.')
	a.b.WriteString(key)
	return a.b.String()[start:]
}

// indexNamed returns base, index(path, i), and named, the path of an
// element that has a name: base + " (" + name + ")", or base when name is
// "". Both are written into the arena at once, base as a prefix of named.
func (a *pathArena) indexNamed(path string, i int, name string) (base, named string) {
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], int64(i), 10)
	n := len(path) + len(d) + 2
	a.room(n + len(name) + 3)
	start := a.b.Len()
	a.b.WriteString(path)
	a.b.WriteByte('[')
	a.b.Write(d)
	a.b.WriteByte(']')
	if name != "" {
		a.b.WriteString(" (")
		a.b.WriteString(name)
		a.b.WriteByte(')')
	}
	named = a.b.String()[start:]
	return named[:n], named
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
		kp := p.paths.join(path, key)
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

package hosttest_test

import (
	"bytes"
	"errors"
	"fmt"
)

// The WebAssembly binary format (https://webassembly.github.io/spec/core/binary/):
// an 8-byte preamble, then sections, each an id byte, a LEB128 u32 size and
// the contents. The export section (id 7) is a vector of (name, kind, index),
// a name being a LEB128 length and UTF-8 bytes. The import section (id 2) is
// a vector of (module, name, kind, description).

var crossPreamble = []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}

const (
	crossImportSection = 2
	crossExportSection = 7
)

// crossRenameExport returns a copy of wasm whose export named from is named
// to instead. Only the export section is rewritten (its size changes with
// the name); every other byte is copied as is. It fails when from is not
// exported or to already is, so a test never runs a module it did not mean
// to build.
func crossRenameExport(wasm []byte, from, to string) ([]byte, error) {
	out, ok, err := crossRewriteSection(wasm, crossExportSection, func(sec []byte) ([]byte, bool, error) {
		return crossRenameInExports(sec, from, to)
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("no export named %q", from)
	}
	return out, nil
}

// crossRetargetImport returns a copy of wasm whose function import
// module.name is imported from toModule.toName instead, with the same type.
// It fails when there is no such function import.
func crossRetargetImport(wasm []byte, module, name, toModule, toName string) ([]byte, error) {
	out, ok, err := crossRewriteSection(wasm, crossImportSection, func(sec []byte) ([]byte, bool, error) {
		return crossRetargetInImports(sec, module, name, toModule, toName)
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("no function import %s.%s", module, name)
	}
	return out, nil
}

// crossRewriteSection copies wasm, passing the contents of every section
// with the given id through rewrite (the section size follows the new
// contents) and every other byte unchanged. It reports whether any call of
// rewrite did.
func crossRewriteSection(wasm []byte, id byte, rewrite func(sec []byte) ([]byte, bool, error)) ([]byte, bool, error) {
	if !bytes.HasPrefix(wasm, crossPreamble) {
		return nil, false, errors.New("not a WebAssembly 1.0 binary")
	}
	out := append([]byte(nil), crossPreamble...)
	done := false
	for p := len(crossPreamble); p < len(wasm); {
		sid := wasm[p]
		size, n, err := crossReadU32(wasm[p+1:])
		if err != nil {
			return nil, false, fmt.Errorf("section at %d: %w", p, err)
		}
		start := p + 1 + n
		end := start + int(size)
		if end > len(wasm) {
			return nil, false, fmt.Errorf("section %d at %d: size %d past the end", sid, p, size)
		}
		if sid != id {
			out = append(out, wasm[p:end]...)
			p = end
			continue
		}
		body, ok, err := rewrite(wasm[start:end])
		if err != nil {
			return nil, false, fmt.Errorf("%s section: %w", crossSectionName(id), err)
		}
		done = done || ok
		out = append(out, sid)
		out = crossAppendU32(out, uint32(len(body)))
		out = append(out, body...)
		p = end
	}
	return out, done, nil
}

func crossSectionName(id byte) string {
	switch id {
	case crossImportSection:
		return "import"
	case crossExportSection:
		return "export"
	}
	return fmt.Sprintf("id %d", id)
}

// crossRetargetInImports rewrites the names of one function import.
func crossRetargetInImports(sec []byte, module, name, toModule, toName string) ([]byte, bool, error) {
	count, n, err := crossReadU32(sec)
	if err != nil {
		return nil, false, err
	}
	out := crossAppendU32(nil, count)
	p := n
	done := false
	readName := func(i uint32, what string) (string, error) {
		l, n, err := crossReadU32(sec[p:])
		if err != nil {
			return "", fmt.Errorf("import %d %s: %w", i, what, err)
		}
		p += n
		if p+int(l) > len(sec) {
			return "", fmt.Errorf("import %d: %s past the end", i, what)
		}
		s := string(sec[p : p+int(l)])
		p += int(l)
		return s, nil
	}
	for i := uint32(0); i < count; i++ {
		mod, err := readName(i, "module")
		if err != nil {
			return nil, false, err
		}
		field, err := readName(i, "name")
		if err != nil {
			return nil, false, err
		}
		descStart := p
		if err := crossSkipImportDesc(sec, &p); err != nil {
			return nil, false, fmt.Errorf("import %d (%s.%s): %w", i, mod, field, err)
		}
		if mod == module && field == name && sec[descStart] == 0x00 {
			mod, field, done = toModule, toName, true
		}
		out = crossAppendU32(out, uint32(len(mod)))
		out = append(out, mod...)
		out = crossAppendU32(out, uint32(len(field)))
		out = append(out, field...)
		out = append(out, sec[descStart:p]...)
	}
	if p != len(sec) {
		return nil, false, fmt.Errorf("%d bytes after the last import", len(sec)-p)
	}
	return out, done, nil
}

// crossSkipImportDesc moves *p past one import description: a kind byte,
// then a type index (function), a reference type and limits (table),
// limits (memory) or a value type and mutability (global).
func crossSkipImportDesc(sec []byte, p *int) error {
	if *p >= len(sec) {
		return errors.New("kind past the end")
	}
	kind := sec[*p]
	*p++
	u32 := func() error {
		_, n, err := crossReadU32(sec[*p:])
		*p += n
		return err
	}
	limits := func() error {
		if *p >= len(sec) {
			return errors.New("limits past the end")
		}
		hasMax := sec[*p]&1 != 0
		*p++
		if err := u32(); err != nil {
			return err
		}
		if hasMax {
			return u32()
		}
		return nil
	}
	switch kind {
	case 0x00:
		return u32()
	case 0x01:
		*p++ // reference type
		return limits()
	case 0x02:
		return limits()
	case 0x03:
		*p += 2 // value type, mutability
		if *p > len(sec) {
			return errors.New("global type past the end")
		}
		return nil
	}
	return fmt.Errorf("unknown import kind 0x%02x", kind)
}

func crossRenameInExports(sec []byte, from, to string) ([]byte, bool, error) {
	count, n, err := crossReadU32(sec)
	if err != nil {
		return nil, false, err
	}
	out := crossAppendU32(nil, count)
	p := n
	renamed := false
	for i := uint32(0); i < count; i++ {
		l, n, err := crossReadU32(sec[p:])
		if err != nil {
			return nil, false, fmt.Errorf("export %d name: %w", i, err)
		}
		p += n
		if p+int(l) > len(sec) {
			return nil, false, fmt.Errorf("export %d: name past the end", i)
		}
		name := string(sec[p : p+int(l)])
		p += int(l)
		// kind (one byte) and index (LEB128 u32) are copied unchanged.
		if p >= len(sec) {
			return nil, false, fmt.Errorf("export %d (%s): kind past the end", i, name)
		}
		_, m, err := crossReadU32(sec[p+1:])
		if err != nil {
			return nil, false, fmt.Errorf("export %d (%s) index: %w", i, name, err)
		}
		desc := sec[p : p+1+m]
		p += 1 + m
		switch name {
		case to:
			return nil, false, fmt.Errorf("%q is already exported", to)
		case from:
			name = to
			renamed = true
		}
		out = crossAppendU32(out, uint32(len(name)))
		out = append(out, name...)
		out = append(out, desc...)
	}
	if p != len(sec) {
		return nil, false, fmt.Errorf("%d bytes after the last export", len(sec)-p)
	}
	return out, renamed, nil
}

// crossReadU32 decodes an unsigned LEB128 u32 (at most 5 bytes).
func crossReadU32(b []byte) (uint32, int, error) {
	var v uint32
	for i := 0; i < 5; i++ {
		if i >= len(b) {
			return 0, 0, errors.New("truncated LEB128")
		}
		v |= uint32(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			if i == 4 && b[i] > 0x0f {
				return 0, 0, errors.New("LEB128 overflows u32")
			}
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("LEB128 longer than 5 bytes")
}

func crossAppendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

package hosttest_test

import (
	"bytes"
	"errors"
	"fmt"
)

// The WebAssembly binary format (https://webassembly.github.io/spec/core/binary/):
// an 8-byte preamble, then sections, each an id byte, a LEB128 u32 size and
// the contents. The export section (id 7) is a vector of (name, kind, index),
// a name being a LEB128 length and UTF-8 bytes.

var crossPreamble = []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}

const crossExportSection = 7

// crossRenameExport returns a copy of wasm whose export named from is named
// to instead. Only the export section is rewritten (its size changes with
// the name); every other byte is copied as is. It fails when from is not
// exported or to already is, so a test never runs a module it did not mean
// to build.
func crossRenameExport(wasm []byte, from, to string) ([]byte, error) {
	if !bytes.HasPrefix(wasm, crossPreamble) {
		return nil, errors.New("not a WebAssembly 1.0 binary")
	}
	out := append([]byte(nil), crossPreamble...)
	renamed := false
	for p := len(crossPreamble); p < len(wasm); {
		id := wasm[p]
		size, n, err := crossReadU32(wasm[p+1:])
		if err != nil {
			return nil, fmt.Errorf("section at %d: %w", p, err)
		}
		start := p + 1 + n
		end := start + int(size)
		if end > len(wasm) {
			return nil, fmt.Errorf("section %d at %d: size %d past the end", id, p, size)
		}
		if id != crossExportSection {
			out = append(out, wasm[p:end]...)
			p = end
			continue
		}
		body, ok, err := crossRenameInExports(wasm[start:end], from, to)
		if err != nil {
			return nil, fmt.Errorf("export section: %w", err)
		}
		renamed = renamed || ok
		out = append(out, id)
		out = crossAppendU32(out, uint32(len(body)))
		out = append(out, body...)
		p = end
	}
	if !renamed {
		return nil, fmt.Errorf("no export named %q", from)
	}
	return out, nil
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

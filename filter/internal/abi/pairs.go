package abi

import "encoding/binary"

// Pairs is a header map in the proxy-wasm serialization: a little-endian
// uint32 count, count pairs of uint32 (key size, value size), then each key
// and value followed by a NUL byte. It views the bytes without copying them;
// keys and values are substrings of that one buffer.
type Pairs struct {
	data  string // whole serialized map
	count int
}

// ParsePairs checks b and returns a view on it. b must not be modified
// afterwards. An empty b, or a single zero byte, is an empty map (both are
// allowed by the spec).
//
// It checks what keeps every later read in bounds: the size table fits, and
// the keys and values it announces, each with its NUL, fit in the rest of b
// (the last NUL is checked too). It does not look at every NUL: this runs on
// every request, and in wasm a byte load at a computed offset per pair costs
// more than the whole sum.
func ParsePairs(b []byte) (Pairs, error) {
	if len(b) <= 1 {
		if len(b) == 1 && b[0] != 0 {
			return Pairs{}, ErrParseFailure
		}
		return Pairs{}, nil
	}
	if len(b) < 4 {
		return Pairs{}, ErrParseFailure
	}
	s := bytesString(b)
	count := int(le32(s, 0))
	// 8 bytes of sizes and 2 NULs per pair: bounds the count before use so
	// a bogus count cannot make us loop for long.
	if count > (len(b)-4)/10 {
		return Pairs{}, ErrParseFailure
	}
	// Sizes are below 2^32 and count below 2^32, so the int64 sum cannot
	// overflow.
	table := 4 + 8*count
	total := table
	for i := 4; i < table; i += 8 {
		total += int(le32(s, i)) + int(le32(s, i+4)) + 2
	}
	if total > len(b) || (count > 0 && b[total-1] != 0) {
		return Pairs{}, ErrParseFailure
	}
	return Pairs{data: s, count: count}, nil
}

// Len returns the number of pairs.
func (p Pairs) Len() int { return p.count }

// Each calls fn for every pair in order until fn returns false.
func (p Pairs) Each(fn func(key, value string) bool) {
	off := 4 + 8*p.count
	for i := 0; i < p.count; i++ {
		var key, value string
		key, value, off = p.pair(i, off)
		if !fn(key, value) {
			return
		}
	}
}

// Cursor walks the pairs in order. Unlike Each it makes no indirect call per
// pair, which matters on the request path, where every header is read once;
// Next is small enough to be inlined, so a scan loop makes no call at all
// per pair.
type Cursor struct {
	data      string
	size, end int // offset of the next pair's sizes; end of the size table
	off       int // offset of the next pair's key
}

// Cursor returns a cursor before the first pair.
func (p Pairs) Cursor() Cursor {
	end := 4 + 8*p.count
	return Cursor{data: p.data, size: 4, end: end, off: end}
}

// Next returns the next pair, or ok false after the last one. ParsePairs
// has checked every bound already.
func (c *Cursor) Next() (key, value string, ok bool) {
	if c.size >= c.end {
		return
	}
	k, v := int(le32(c.data, c.size)), int(le32(c.data, c.size+4))
	c.size += 8
	key = c.data[c.off:][:k]
	value = c.data[c.off+k+1:][:v]
	c.off += k + v + 2
	return key, value, true
}

// Get returns the first value of key.
func (p Pairs) Get(key string) (value string, ok bool) {
	off := 4 + 8*p.count
	for i := 0; i < p.count; i++ {
		var k, v string
		k, v, off = p.pair(i, off)
		if k == key {
			return v, true
		}
	}
	return "", false
}

// pair returns pair i, whose key starts at off, and the offset of the next.
// ParsePairs has checked every bound already.
func (p Pairs) pair(i, off int) (key, value string, next int) {
	k := int(le32(p.data, 4+8*i))
	v := int(le32(p.data, 8+8*i))
	return p.data[off : off+k], p.data[off+k+1 : off+k+1+v], off + k + v + 2
}

// AppendPairs appends the serialization of pairs to dst.
func AppendPairs(dst []byte, pairs [][2]string) []byte {
	if len(pairs) == 0 {
		return dst
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(pairs)))
	for _, kv := range pairs {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(kv[0])))
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(kv[1])))
	}
	for _, kv := range pairs {
		dst = append(dst, kv[0]...)
		dst = append(dst, 0)
		dst = append(dst, kv[1]...)
		dst = append(dst, 0)
	}
	return dst
}

package abi

// idTable maps context ids to values. It replaces a Go map for the stream
// registry, which the host touches several times per request: a Go map
// insert, lookup and delete run through the runtime's generic hashing,
// which in wasm costs far more than a multiply and a few compares.
//
// It is open addressing with linear probing and backward-shift deletion (no
// tombstones, so a long run of creates and deletes never degrades lookups).
// Key 0 marks an empty slot: the host never names a context 0, which the ABI
// reserves for "no parent". Storage grows by doubling at half load and never
// shrinks, so steady traffic does not allocate.
type idTable[V any] struct {
	keys  []uint32
	vals  []V
	n     int
	shift uint // 32 - log2(len(keys))
}

const idTableMinSize = 64

// slot returns the home slot of key: Fibonacci hashing, which spreads the
// host's mostly sequential ids evenly.
func (t *idTable[V]) slot(key uint32) int {
	return int((key * 0x9E3779B1) >> t.shift)
}

// get returns the value of key, and whether it is present.
func (t *idTable[V]) get(key uint32) (V, bool) {
	if p := t.ptr(key); p != nil {
		return *p, true
	}
	var zero V
	return zero, false
}

// ptr returns the value of key in place, or nil when key is absent. The
// pointer is valid until the next put (which may grow the table).
func (t *idTable[V]) ptr(key uint32) *V {
	if key != 0 && len(t.keys) > 0 {
		mask := len(t.keys) - 1
		for i := t.slot(key); ; i = (i + 1) & mask {
			switch t.keys[i] {
			case key:
				return &t.vals[i]
			case 0:
				return nil
			}
		}
	}
	return nil
}

// put sets the value of key, which must not be 0.
func (t *idTable[V]) put(key uint32, v V) {
	if key == 0 {
		panic("abi: context id 0 in the registry")
	}
	if 2*(t.n+1) > len(t.keys) {
		t.grow()
	}
	mask := len(t.keys) - 1
	for i := t.slot(key); ; i = (i + 1) & mask {
		switch t.keys[i] {
		case key:
			t.vals[i] = v
			return
		case 0:
			t.keys[i], t.vals[i] = key, v
			t.n++
			return
		}
	}
}

// remove deletes key and reports whether it was present.
func (t *idTable[V]) remove(key uint32) bool {
	if key == 0 || len(t.keys) == 0 {
		return false
	}
	mask := len(t.keys) - 1
	i := t.slot(key)
	for t.keys[i] != key {
		if t.keys[i] == 0 {
			return false
		}
		i = (i + 1) & mask
	}
	// Shift back every later entry of the run that may sit at i, so no
	// lookup meets a hole before reaching its key.
	var zero V
	for j := (i + 1) & mask; t.keys[j] != 0; j = (j + 1) & mask {
		home := t.slot(t.keys[j])
		// j's entry may move to i when its home is not within (i, j],
		// cyclically.
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.keys[i], t.vals[i] = t.keys[j], t.vals[j]
			i = j
		}
	}
	t.keys[i], t.vals[i] = 0, zero
	t.n--
	return true
}

// len returns the number of keys.
func (t *idTable[V]) len() int { return t.n }

func (t *idTable[V]) grow() {
	size := 2 * len(t.keys)
	if size < idTableMinSize {
		size = idTableMinSize
	}
	oldKeys, oldVals := t.keys, t.vals
	t.keys, t.vals, t.n = make([]uint32, size), make([]V, size), 0
	t.shift = 32
	for s := size; s > 1; s >>= 1 {
		t.shift--
	}
	for i, k := range oldKeys {
		if k != 0 {
			t.put(k, oldVals[i])
		}
	}
}

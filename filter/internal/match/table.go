package match

import "strings"

// Table is the compiled form of a list of rule conditions. Build it once, at
// configure time; it is immutable afterwards and safe to share.
//
// Every rule is filed under one index, chosen by its most selective
// condition: exact path, route name, authority, virtual host, cluster, path
// prefix, or, when it has none of these, the unindexed list. Match consults
// each index for the candidates that can possibly hold and keeps the lowest
// rule position whose conditions all hold, so first-match-wins in config
// order is preserved across indexes.
type Table struct {
	n int32
	// rest holds, per rule, the conditions its index does not already
	// guarantee (the indexed one cleared), or nil when none are left: a
	// candidate the index returns for such a plain rule matches without
	// another look at the request. Plain rules, the common case, cost one
	// pointer instead of a copy of their conditions.
	rest []*Conditions

	path        exactIndex
	routeName   exactIndex
	authority   exactIndex
	virtualHost exactIndex
	cluster     exactIndex
	prefix      trie
	unindexed   []int32
	unindexedAt int32 // lowest rule position in unindexed, or len(conds)

	// order lists the index kinds by their lowest rule position, so the
	// index most likely to produce an early match is consulted first and
	// the later ones are skipped without fetching their request attribute.
	order [numIndexes]indexKind
	// active is how many kinds at the front of order hold any rule: Match
	// never visits an empty index.
	active int
	needs  Needs
}

type indexKind uint8

const (
	indexPath indexKind = iota
	indexRouteName
	indexAuthority
	indexVirtualHost
	indexCluster
	indexPrefix
	indexUnindexed
	numIndexes
)

// exactIndex maps an attribute value to the positions of the rules filed
// under it, ascending. Keys are collected in a Go map while building, then
// frozen into an open-addressed table probed with FNV-1a: inside the guest a
// lookup in it costs about two thirds of a Go map lookup (measured in wasm
// with 10 and 3,334 keys), and Match makes up to five per request.
type exactIndex struct {
	build map[string][]int32 // while building; nil once frozen
	keys  []string           // frozen table, "" for an empty slot
	lists [][]int32          // positions per slot
	mask  uint32
	min   int32 // lowest position filed here, or the table length
}

func (x *exactIndex) add(key string, pos int32) {
	if x.build == nil {
		x.build = make(map[string][]int32)
	}
	x.build[key] = append(x.build[key], pos)
	if pos < x.min {
		x.min = pos
	}
}

// freeze moves the keys into the probe table, at most half full.
func (x *exactIndex) freeze() {
	if len(x.build) == 0 {
		x.build = nil
		return
	}
	size := 8
	for size < 2*len(x.build) {
		size *= 2
	}
	x.keys, x.lists, x.mask = make([]string, size), make([][]int32, size), uint32(size-1)
	for k, list := range x.build {
		i := fnv1a(k) & x.mask
		for x.keys[i] != "" {
			i = (i + 1) & x.mask
		}
		x.keys[i], x.lists[i] = k, list
	}
	x.build = nil
}

// get returns the positions filed under key, or nil. Keys are never empty:
// an empty condition is not indexed.
func (x *exactIndex) get(key string) []int32 {
	if x.keys == nil || key == "" {
		return nil
	}
	for i := fnv1a(key) & x.mask; ; i = (i + 1) & x.mask {
		switch x.keys[i] {
		case key:
			return x.lists[i]
		case "":
			return nil
		}
	}
}

// fnv1a is the 32-bit FNV-1a hash of s.
func fnv1a(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// Build compiles conds, given in config order, into a Table.
func Build(conds []Conditions) *Table {
	n := int32(len(conds))
	t := &Table{n: n, unindexedAt: n, rest: make([]*Conditions, len(conds))}
	for _, x := range []*exactIndex{&t.path, &t.routeName, &t.authority, &t.virtualHost, &t.cluster} {
		x.min = n
	}
	t.prefix.init(n)
	seen := map[string]bool{}
	for i := range conds {
		c := &conds[i]
		pos := int32(i)
		rest := *c
		switch {
		case c.Path != "":
			t.path.add(c.Path, pos)
			rest.Path = ""
		case c.RouteName != "":
			t.routeName.add(c.RouteName, pos)
			rest.RouteName = ""
		case c.Authority != "":
			t.authority.add(c.Authority, pos)
			rest.Authority = ""
		case c.VirtualHost != "":
			t.virtualHost.add(c.VirtualHost, pos)
			rest.VirtualHost = ""
		case c.Cluster != "":
			t.cluster.add(c.Cluster, pos)
			rest.Cluster = ""
		case c.Prefix != "":
			t.prefix.insert(c.Prefix, pos)
			rest.Prefix = ""
		default:
			t.unindexed = append(t.unindexed, pos)
			if pos < t.unindexedAt {
				t.unindexedAt = pos
			}
		}
		if !rest.empty() {
			// A copy only for the rules that keep conditions beyond their
			// index: taking &rest moved every rule's copy to the heap, one
			// allocation per rule (BenchmarkParse/rules_1000: 6,449 -> 5,449).
			kept := rest
			t.rest[i] = &kept
		}
		nd := &t.needs
		nd.RouteName = nd.RouteName || c.RouteName != ""
		nd.VirtualHost = nd.VirtualHost || c.VirtualHost != ""
		nd.Cluster = nd.Cluster || c.Cluster != ""
		nd.Path = nd.Path || c.Path != "" || c.Prefix != "" || c.Regex != nil
		nd.Method = nd.Method || len(c.Methods) > 0
		nd.Authority = nd.Authority || c.Authority != ""
		for _, h := range c.Headers {
			if !seen[h.Name] {
				seen[h.Name] = true
				nd.Headers = append(nd.Headers, h.Name)
			}
		}
	}
	for _, x := range []*exactIndex{&t.path, &t.routeName, &t.authority, &t.virtualHost, &t.cluster} {
		x.freeze()
	}
	mins := [numIndexes]int32{
		indexPath:        t.path.min,
		indexRouteName:   t.routeName.min,
		indexAuthority:   t.authority.min,
		indexVirtualHost: t.virtualHost.min,
		indexCluster:     t.cluster.min,
		indexPrefix:      t.prefix.min,
		indexUnindexed:   t.unindexedAt,
	}
	for i := range t.order {
		t.order[i] = indexKind(i)
	}
	// Insertion sort: seven entries, stable, no allocation.
	for i := 1; i < len(t.order); i++ {
		for j := i; j > 0 && mins[t.order[j]] < mins[t.order[j-1]]; j-- {
			t.order[j], t.order[j-1] = t.order[j-1], t.order[j]
		}
	}
	for t.active < len(t.order) && mins[t.order[t.active]] < n {
		t.active++
	}
	return t
}

// Len is the number of rules in the table.
func (t *Table) Len() int { return int(t.n) }

// Needs reports which request attributes any rule reads.
func (t *Table) Needs() Needs { return t.needs }

// Match returns the position of the first rule, in config order, whose
// conditions all hold for req, or -1 if none does. It does not allocate.
func (t *Table) Match(req Request) int {
	best := t.n
	// The path without its query string, computed once for both indexes
	// that read it.
	path, stripped := "", false
	for _, k := range t.order[:t.active] {
		switch k {
		case indexPath:
			if t.path.min < best {
				if !stripped {
					path, stripped = StripQuery(req.Path()), true
				}
				best = t.scan(t.path.get(path), best, req)
			}
		case indexRouteName:
			if t.routeName.min < best {
				best = t.scan(t.routeName.get(req.RouteName()), best, req)
			}
		case indexAuthority:
			if t.authority.min < best {
				best = t.scan(t.authority.get(req.Authority()), best, req)
			}
		case indexVirtualHost:
			if t.virtualHost.min < best {
				best = t.scan(t.virtualHost.get(req.VirtualHost()), best, req)
			}
		case indexCluster:
			if t.cluster.min < best {
				best = t.scan(t.cluster.get(req.Cluster()), best, req)
			}
		case indexPrefix:
			if t.prefix.min < best {
				if !stripped {
					path, stripped = StripQuery(req.Path()), true
				}
				best = t.matchPrefix(path, best, req)
			}
		case indexUnindexed:
			if t.unindexedAt < best {
				best = t.scan(t.unindexed, best, req)
			}
		}
	}
	if best == t.n {
		return -1
	}
	return int(best)
}

// scan returns the first position in the ascending list below best whose
// conditions hold, or best.
func (t *Table) scan(list []int32, best int32, req Request) int32 {
	for _, pos := range list {
		if pos >= best {
			break
		}
		if r := t.rest[pos]; r == nil || r.Matches(req) {
			return pos
		}
	}
	return best
}

// matchPrefix walks the prefix trie along p and scans the rules of every
// prefix of p on the way.
func (t *Table) matchPrefix(p string, best int32, req Request) int32 {
	nodes := t.prefix.nodes
	n := &nodes[0]
	if len(n.rules) > 0 {
		best = t.scan(n.rules, best, req)
	}
	for i := 0; i < len(p); {
		c := n.child(nodes, p[i])
		if c < 0 {
			break
		}
		next := &nodes[c]
		if !strings.HasPrefix(p[i:], next.label) {
			break
		}
		i += len(next.label)
		n = next
		// Inner nodes of the trie hold no rule; skip the call.
		if len(n.rules) > 0 {
			best = t.scan(n.rules, best, req)
		}
	}
	return best
}

// trie is a radix tree of path prefixes. Nodes live in one slice and refer to
// each other by position, which keeps 10,000 prefixes compact.
type trie struct {
	nodes []trieNode
	min   int32
}

type trieNode struct {
	label    string  // edge label leading to this node
	first    []byte  // first byte of each child's label, ascending
	children []int32 // node positions, parallel to first
	rules    []int32 // rules whose prefix ends exactly here, ascending
}

func (t *trie) init(n int32) {
	t.nodes = []trieNode{{}}
	t.min = n
}

// child returns the position of n's child whose label starts with b, or -1.
func (n *trieNode) child(nodes []trieNode, b byte) int32 {
	lo, hi := 0, len(n.first)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if n.first[m] < b {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(n.first) && n.first[lo] == b {
		return n.children[lo]
	}
	return -1
}

func (t *trie) insert(prefix string, pos int32) {
	if pos < t.min {
		t.min = pos
	}
	cur := int32(0)
	s := prefix
	for {
		if s == "" {
			t.nodes[cur].rules = append(t.nodes[cur].rules, pos)
			return
		}
		c := t.nodes[cur].child(t.nodes, s[0])
		if c < 0 {
			t.nodes = append(t.nodes, trieNode{label: s, rules: []int32{pos}})
			t.link(cur, int32(len(t.nodes)-1))
			return
		}
		label := t.nodes[c].label
		k := commonPrefix(label, s)
		if k == len(label) {
			cur = c
			s = s[k:]
			continue
		}
		// Split the edge: a new middle node takes the common part.
		t.nodes = append(t.nodes, trieNode{label: label[:k]})
		mid := int32(len(t.nodes) - 1)
		t.nodes[c].label = label[k:]
		t.link(mid, c)
		t.replaceChild(cur, label[0], mid)
		cur = mid
		s = s[k:]
	}
}

// link adds child c to node p, keeping first sorted.
func (t *trie) link(p, c int32) {
	n := &t.nodes[p]
	b := t.nodes[c].label[0]
	i := 0
	for i < len(n.first) && n.first[i] < b {
		i++
	}
	n.first = append(n.first, 0)
	n.children = append(n.children, 0)
	copy(n.first[i+1:], n.first[i:])
	copy(n.children[i+1:], n.children[i:])
	n.first[i] = b
	n.children[i] = c
}

func (t *trie) replaceChild(p int32, b byte, c int32) {
	n := &t.nodes[p]
	for i, f := range n.first {
		if f == b {
			n.children[i] = c
			return
		}
	}
}

func commonPrefix(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

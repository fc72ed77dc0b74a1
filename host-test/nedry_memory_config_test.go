package hosttest_test

import (
	"strconv"
	"strings"
	"testing"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// maxConfigMemory is the documented worst case (README, "Memory per
// configuration") of a VM's linear memory after any sequence of accepted
// configurations: Go's wasm memory never shrinks, so this is what the
// largest configuration leaves behind for the life of the VM.
const maxConfigMemory = 48 << 20

// memoryConfig builds the largest configuration of one shape that the
// validator accepts (10,000 rules or 1 MiB, whichever comes first). tag
// makes two configurations of the same shape differ, as alternating pushes
// do.
func memoryConfig(shape, tag string) string {
	var b strings.Builder
	b.WriteString(`{"rules":[`)
	for i := 0; i < 10000; i++ {
		n := tag + strconv.Itoa(i)
		var r string
		switch shape {
		case "prefix":
			// The most rules, each indexed in the prefix trie.
			r = `{"name":"` + n + `","match":{"prefix":"/p/` + n + `/"},"abort":{"percent":1}}`
		case "regex":
			// Refused now (the regex budget); it took 132 MiB before.
			r = `{"name":"` + n + `","match":{"regex":"^/p/` + n + `/"},"abort":{"percent":1}}`
		case "all_faults":
			// The most fault objects and tags per byte.
			r = `{"name":"` + n + `","abort":{"percent":1},"delay":{"percent":1,"fixed":"1s"},` +
				`"corrupt":{"percent":1,"request":[{"op":"remove","name":"a"}]},"reset":{"percent":1}}`
		}
		if b.Len()+len(r)+2 > 1<<20 {
			break
		}
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(r)
	}
	b.WriteString("]}")
	return b.String()
}

// Alternating the largest configurations, then pushing {}, leaves linear
// memory under maxConfigMemory, whether each is accepted or refused. Before
// the regex budget, 10,000 regex rules left 132 MiB; before rule tables were
// compacted, six pushes of 10,000 prefix rules left 54.5 MiB (33 MiB now).
func TestMemory_largestConfigurations(t *testing.T) {
	for _, shape := range []string{"prefix", "all_faults", "regex"} {
		t.Run(shape, func(t *testing.T) {
			h := newNedry(t, "{}", hosttest.Options{})
			for _, tag := range []string{"a", "b", "a"} {
				// The regex shape is refused; memory is what is checked.
				if err := h.Reconfigure([]byte(memoryConfig(shape, tag))); err != nil && shape != "regex" {
					t.Fatalf("push %s: %v", tag, err)
				}
			}
			if err := h.Reconfigure([]byte("{}")); err != nil {
				t.Fatalf("push {}: %v", err)
			}
			mem := h.MemorySize(0)
			t.Logf("%s: linear memory %.1f MiB after three pushes and {}", shape, float64(mem)/(1<<20))
			if mem > maxConfigMemory {
				t.Fatalf("linear memory %d bytes (%.1f MiB), above the documented %d MiB", mem, float64(mem)/(1<<20), maxConfigMemory>>20)
			}
			r, _ := run(h, get("GET", "/p/a1/"))
			if r.Upstream == nil || r.LocalReply != nil {
				t.Fatalf("after {}: have reply %+v, want a plain pass", r.LocalReply)
			}
			noTrap(t, h)
		})
	}
}

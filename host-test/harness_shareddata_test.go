package hosttest

import (
	"context"
	"testing"
)

// Shared data as cpp-host's src/shared_data.cc keeps it: NotFound for a
// missing key, a CAS that every write advances, CasMismatch for a stale
// one, cas 0 writing unconditionally, one store for every worker of a
// vm_id, kept across a configuration push, and another vm_id apart.
func TestSharedData(t *testing.T) {
	h := newHost(t, "shareddata", Options{Workers: 2, VMID: "nedry"})
	do := func(worker int, headers ...string) (status, got string) {
		t.Helper()
		r := req(headers...)
		r.Worker, r.WorkerSet = worker, true
		res := h.Do(r)
		mustNoTrap(t, res)
		return hv(res, "x-set-status"), hv(res, "x-got")
	}
	steps := []struct {
		name       string
		worker     int
		headers    []string
		wantStatus string
		wantGot    string
	}{
		{"missing key", 0, []string{"x-get", "k"}, "", "!1"},
		{"create with cas 0", 0, []string{"x-set", "k=a@0", "x-get", "k"}, "0", "a@1"},
		{"other worker sees it", 1, []string{"x-get", "k"}, "", "a@1"},
		{"write with the current cas", 1, []string{"x-set", "k=b@1", "x-get", "k"}, "0", "b@2"},
		{"stale cas", 0, []string{"x-set", "k=c@1", "x-get", "k"}, "8", "b@2"},
		{"cas 0 overwrites", 0, []string{"x-set", "k=d@0", "x-get", "k"}, "0", "d@3"},
		{"create ignores cas", 1, []string{"x-set", "j=@99", "x-get", "j"}, "0", "@4"},
	}
	for _, s := range steps {
		st, got := do(s.worker, s.headers...)
		if st != s.wantStatus || got != s.wantGot {
			t.Fatalf("%s: x-set-status %q x-got %q, want %q %q", s.name, st, got, s.wantStatus, s.wantGot)
		}
	}
	if err := h.Reconfigure([]byte("new")); err != nil {
		t.Fatal(err)
	}
	if _, got := do(1, "x-get", "k"); got != "d@3" {
		t.Fatalf("after a push: x-got %q, want d@3", got)
	}
	// Another process (host), or another vm_id, has its own store.
	other, err := New(context.Background(), guest(t, "shareddata"), Options{VMID: "other"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())
	if res := other.Do(req("x-get", "k")); hv(res, "x-got") != "!1" {
		t.Fatalf("vm_id other: x-got %q, want !1", hv(res, "x-got"))
	}
}

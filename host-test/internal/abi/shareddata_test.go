package abi

import "testing"

func TestSharedData_vmIDs(t *testing.T) {
	d := NewSharedData()
	if st := d.Set("a", "k", "1", 0); st != StatusOK {
		t.Fatal(st)
	}
	if _, _, ok := d.Get("b", "k"); ok {
		t.Fatal("vm_id b sees vm_id a's key")
	}
	if st := d.Set("b", "k", "2", 0); st != StatusOK {
		t.Fatal(st)
	}
	if v, cas, _ := d.Get("a", "k"); v != "1" || cas != 1 {
		t.Fatalf("a: %q@%d, want 1@1", v, cas)
	}
	if v, cas, _ := d.Get("b", "k"); v != "2" || cas != 2 {
		t.Fatalf("b: %q@%d, want 2@2 (one CAS counter for the host)", v, cas)
	}
	d.cas = 0xffffffff
	d.Set("a", "k", "x", 0)
	if _, cas, _ := d.Get("a", "k"); cas != 0xffffffff {
		t.Fatalf("cas %d", cas)
	}
	d.Set("a", "k", "y", 0)
	if _, cas, _ := d.Get("a", "k"); cas != 1 {
		t.Fatalf("after wrap-around: cas %d, want 1 (0 is never handed out)", cas)
	}
}

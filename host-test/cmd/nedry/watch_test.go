package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// TestWatcher_poll drives the config watcher one poll at a time against a
// real host: changes are found by content, and only a content read twice in
// a row is applied, so an empty or half-written read during a save is never
// pushed.
func TestWatcher_poll(t *testing.T) {
	wasm, err := loadWasm(wasmFile(t))
	if err != nil {
		t.Fatal(err)
	}
	rule := func(name string) string {
		return `{"rules": [{"name": "` + name + `", "abort": {"percent": 100, "http_status": 503}}]}`
	}
	path := writeFile(t, t.TempDir(), "nedry.json", rule("aaaa"))
	host, err := hosttest.New(context.Background(), wasm, hosttest.Options{Workers: 1, PluginConfig: []byte(rule("aaaa"))})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close(context.Background())
	stdout, stderr := newOutput(), newOutput()
	w := &watcher{path: path, interval: time.Hour, host: host, log: newLogger(stdout, stderr, hosttest.LogLevelInfo)}
	w.remember([]byte(rule("aaaa")))

	// write replaces the content in place (no rename), keeping the
	// modification time when keepTime is set, as cp -p does.
	write := func(content string, keepTime bool) {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if keepTime {
			if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
				t.Fatal(err)
			}
		}
	}
	steps := []struct {
		name    string
		content string // "-" keeps the file as it is
		keep    bool
		want    string // the reload line this poll prints, "" for none
	}{
		{"emptied mid-save: first look", "", false, ""},
		{"rewritten: first look", rule("bbbb"), false, ""},
		{"rewritten: second look", "-", false, "reloaded: 1 rule (bbbb: abort 100%)"},
		{"half-written: first look", rule("cccc")[:20], false, ""},
		{"completed: first look", rule("cccc"), false, ""},
		{"completed: second look", "-", false, "reloaded: 1 rule (cccc: abort 100%)"},
		{"same size and mtime: first look", rule("dddd"), true, ""},
		{"same size and mtime: second look", "-", true, "reloaded: 1 rule (dddd: abort 100%)"},
		{"unchanged", "-", false, ""},
		{"emptied for good: first look", "", false, ""},
		{"emptied for good: second look", "-", false, "reloaded: 0 rules"},
	}
	for _, st := range steps {
		before := len(stdout.String())
		if st.content != "-" {
			write(st.content, st.keep)
		}
		w.poll()
		printed := stdout.String()[before:]
		if have := strings.Contains(printed, "reloaded"); have != (st.want != "") || !strings.Contains(printed, st.want) {
			t.Fatalf("%s: printed %q, want %q", st.name, printed, st.want)
		}
	}
	if s := stderr.String(); s != "" {
		t.Fatalf("no refusal or error expected, stderr:\n%s", s)
	}
}

package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// logger writes nedry's own lines and the guest's logs. Lines at warn and
// above go to stderr, the rest to stdout. It is safe for concurrent use.
type logger struct {
	mu     sync.Mutex
	stdout io.Writer
	stderr io.Writer
	level  hosttest.LogLevel

	// capture, when non-nil, collects guest logs above debug instead of
	// printing them:
	// a configuration push gathers its own logs so a refusal is printed
	// once, by the code that refuses it, not once per VM as they happen.
	capture *[]hosttest.LogEntry
	// recent remembers guest messages printed in the last second, so the
	// same line from every worker VM, or from every request under load,
	// is printed once.
	recent map[string]time.Time
}

func newLogger(stdout, stderr io.Writer, level hosttest.LogLevel) *logger {
	return &logger{stdout: stdout, stderr: stderr, level: level, recent: make(map[string]time.Time)}
}

// enabled reports whether lines at level l are printed.
func (l *logger) enabled(level hosttest.LogLevel) bool { return level >= l.level }

func (l *logger) infof(format string, args ...any) { l.printf(hosttest.LogLevelInfo, format, args...) }
func (l *logger) warnf(format string, args ...any) { l.printf(hosttest.LogLevelWarn, format, args...) }
func (l *logger) errorf(format string, args ...any) {
	l.printf(hosttest.LogLevelError, format, args...)
}
func (l *logger) debugf(format string, args ...any) {
	l.printf(hosttest.LogLevelDebug, format, args...)
}

func (l *logger) printf(level hosttest.LogLevel, format string, args ...any) {
	if !l.enabled(level) {
		return
	}
	msg := fmt.Sprintf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.write(level, "nedry: "+levelPrefix(level)+msg)
}

// levelPrefix marks lines that are not plain information.
func levelPrefix(level hosttest.LogLevel) string {
	if level == hosttest.LogLevelInfo {
		return ""
	}
	return level.String() + ": "
}

func (l *logger) write(level hosttest.LogLevel, line string) {
	w := l.stdout
	if level >= hosttest.LogLevelWarn {
		w = l.stderr
	}
	io.WriteString(w, line+"\n")
}

// guest is the hosttest Logger sink: the filter's own log lines.
func (l *logger) guest(e hosttest.LogEntry) {
	if !l.enabled(e.Level) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.capture != nil && e.Level > hosttest.LogLevelDebug {
		*l.capture = append(*l.capture, e)
		return
	}
	// Debug lines are the per-fault log the user asked for: all of them.
	if e.Level > hosttest.LogLevelDebug {
		now := time.Now()
		key := e.Level.String() + e.Message
		if t, ok := l.recent[key]; ok && now.Sub(t) < time.Second {
			return
		}
		if len(l.recent) > 1000 {
			clear(l.recent)
		}
		l.recent[key] = now
	}
	// The filter starts its lines with "nedry: " too; say it once.
	msg := strings.TrimPrefix(strings.TrimRight(e.Message, "\n"), "nedry: ")
	l.write(e.Level, "nedry: wasm "+e.Level.String()+": "+msg)
}

// captureGuest starts collecting guest logs; the returned function stops
// and returns what was collected.
func (l *logger) captureGuest() func() []hosttest.LogEntry {
	var logs []hosttest.LogEntry
	l.mu.Lock()
	l.capture = &logs
	l.mu.Unlock()
	return func() []hosttest.LogEntry {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.capture = nil
		return logs
	}
}

// parseLevel maps a --log-level value to a proxy-wasm log level.
func parseLevel(s string) (hosttest.LogLevel, error) {
	for l := hosttest.LogLevelTrace; l <= hosttest.LogLevelCritical; l++ {
		if s == l.String() {
			return l, nil
		}
	}
	return 0, fmt.Errorf("--log-level: want trace, debug, info, warn, error or critical, got %q", s)
}

//go:build unix

package hosttest_test

import (
	"syscall"
	"time"
)

// benchProcessCPU is the CPU time the test process used so far (user and
// system, every thread), or false where it cannot be read.
func benchProcessCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

//go:build unix

package scoring

import (
	"syscall"
	"time"
)

// cpuTime is the user and system CPU time of the process so far (of the Go
// side only: the PostgreSQL backend's is not in it).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

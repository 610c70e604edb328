//go:build !linux

package bench

import (
	"errors"
	"syscall"
	"time"
)

// childAttr returns nil: only Linux can tie a child's life to its parent.
func childAttr() *syscall.SysProcAttr { return nil }

// sleeper sleeps with the Go runtime's timers, which may round a short
// sleep up to a millisecond.
type sleeper struct{}

func newSleeper() (*sleeper, error) { return &sleeper{}, nil }

func (s *sleeper) sleep(d time.Duration) error { time.Sleep(d); return nil }

func (s *sleeper) close() {}

// processCPU is unknown outside Linux.
func processCPU(pid int) (time.Duration, error) {
	return 0, errors.New("bench: CPU accounting needs Linux")
}

// processRSS is unknown outside Linux.
func processRSS(pid int) (int64, error) {
	return 0, errors.New("bench: resident set size needs Linux")
}

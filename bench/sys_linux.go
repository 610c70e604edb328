package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// childAttr makes the kernel send SIGTERM to a child when this process
// dies, so that a crashed or killed harness leaves no server behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

// sleeper sleeps to within a few tens of µs, where the Go runtime's timers
// round a short sleep up to a millisecond when the process is otherwise
// idle. It arms a timerfd and reads it through the runtime's poller, so
// the sleeping goroutine holds no thread or P: other goroutines (those
// reading responses) run meanwhile. A sleeper belongs to one goroutine;
// the caller must close it.
type sleeper struct {
	f *os.File
	// fd is f's descriptor, kept because f.Fd() would make f blocking.
	fd  uintptr
	buf [8]byte
}

// itimerspec is struct itimerspec from <linux/time.h>.
type itimerspec struct {
	interval, value syscall.Timespec
}

// clockMonotonic is CLOCK_MONOTONIC from <linux/time.h>.
const clockMonotonic = 1

func newSleeper() (*sleeper, error) {
	fd, _, errno := syscall.RawSyscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return nil, fmt.Errorf("bench: timerfd_create: %w", errno)
	}
	s := &sleeper{f: os.NewFile(fd, "timerfd"), fd: fd}
	// Only a file in the runtime's poller takes deadlines; one that is not
	// would block a thread per sleep.
	if err := s.f.SetReadDeadline(time.Time{}); err != nil {
		s.f.Close()
		return nil, fmt.Errorf("bench: timerfd is not pollable: %w", err)
	}
	return s, nil
}

// sleep returns after d, which must be positive.
func (s *sleeper) sleep(d time.Duration) error {
	spec := itimerspec{value: syscall.NsecToTimespec(int64(d))}
	_, _, errno := syscall.RawSyscall6(syscall.SYS_TIMERFD_SETTIME, s.fd, 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0)
	if errno != 0 {
		return fmt.Errorf("bench: timerfd_settime: %w", errno)
	}
	if _, err := s.f.Read(s.buf[:]); err != nil {
		return fmt.Errorf("bench: read timerfd: %w", err)
	}
	return nil
}

func (s *sleeper) close() { s.f.Close() }

// userHZ is the unit of the CPU times in /proc/PID/stat: USER_HZ, 100 on
// every architecture Linux runs switchyard on.
const userHZ = 100

// processCPU returns the CPU time, user and system, that process pid has
// used so far, to 10 ms.
func processCPU(pid int) (time.Duration, error) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// utime and stime are fields 14 and 15, the 12th and 13th after it.
	i := bytes.LastIndexByte(stat, ')')
	fields := bytes.Fields(stat[i+1:])
	if i < 0 || len(fields) < 13 {
		return 0, fmt.Errorf("bench: cannot parse /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(string(fields[11]), 10, 64)
	stime, err2 := strconv.ParseInt(string(fields[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bench: cannot parse /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}

// processRSS returns the resident set size of process pid, in bytes: the
// VmRSS line of /proc/PID/status, which the kernel gives in kB.
func processRSS(pid int) (int64, error) {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	for line := range bytes.Lines(status) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := bytes.Fields(rest)
			if len(f) != 2 || string(f[1]) != "kB" {
				break
			}
			kb, err := strconv.ParseInt(string(f[0]), 10, 64)
			if err != nil {
				break
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("bench: no VmRSS in kB in /proc/%d/status", pid)
}

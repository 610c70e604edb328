//go:build unix

package regfile

import "syscall"

// openFlags opens without blocking on a FIFO that replaced the file after
// it was checked, so that the check of the opened file can refuse it.
const openFlags = syscall.O_RDONLY | syscall.O_NONBLOCK

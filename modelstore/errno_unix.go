//go:build unix

package modelstore

import "syscall"

// errNotEmpty is what rename returns on Linux when the target is a
// non-empty directory.
var errNotEmpty = syscall.ENOTEMPTY

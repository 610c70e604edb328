//go:build !unix

package regfile

import "os"

// openFlags opens read-only; outside unix there is no FIFO to block on.
const openFlags = os.O_RDONLY

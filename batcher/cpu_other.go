//go:build !unix

package batcher

import "time"

// processCPU reports that the process's CPU time cannot be read here:
// costs then hold model time only.
func processCPU() (time.Duration, bool) { return 0, false }

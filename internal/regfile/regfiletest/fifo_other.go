//go:build !unix

package regfiletest

import "testing"

func mkfifo(t testing.TB, _ string) {
	t.Skip("no FIFOs on this system")
}

package bench

import (
	"os"
	"testing"
	"time"
)

func TestProcessCPU(t *testing.T) {
	before, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
	}
	after, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if d := after - before; d < 20*time.Millisecond || d > 5*time.Second {
		t.Fatalf("50 ms of spinning took %v of CPU time", d)
	}
	if _, err := processCPU(-1); err == nil {
		t.Fatal("processCPU(-1) succeeded")
	}
}

func TestSleeper(t *testing.T) {
	s, err := newSleeper()
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	for _, d := range []time.Duration{time.Microsecond, 500 * time.Microsecond, 2 * time.Millisecond} {
		start := time.Now()
		if err := s.sleep(d); err != nil {
			t.Fatalf("sleep(%v) = %v", d, err)
		}
		if got := time.Since(start); got < d {
			t.Fatalf("sleep(%v) returned after %v", d, got)
		}
	}
}

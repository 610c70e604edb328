package tracking

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// childEnv tells the test binary, re-executed, to run as the writing
// child of TestSIGKILLLosesNoAcknowledgedWrite.
const childEnv = "SWITCHYARD_TRACKING_CHILD"

// TestSIGKILLLosesNoAcknowledgedWrite starts a child process that writes
// from several goroutines and prints each write it has been acknowledged,
// kills it with SIGKILL at a random moment, and checks, after reopening
// the database, that every acknowledged write is there and that the
// database is sound. Rounds reuse the database, so each also restarts on
// what the last kill left.
func TestSIGKILLLosesNoAcknowledgedWrite(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("this is the child's process")
	}
	db := newTestDB(t)
	r := rand.New(rand.NewPCG(1, 2))
	const rounds = 12
	for round := range rounds {
		acked := killChildAfter(t, db, round, time.Duration(20+r.IntN(200))*time.Millisecond)
		s, err := db.open(Config{})
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		if err := s.IntegrityCheck(context.Background()); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		log, err := s.AuditLog(context.Background(), AuditQuery{Model: fmt.Sprint("round-", round), Limit: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		have := map[string]bool{}
		for _, e := range log {
			have[e.Actor+"/"+strconv.Itoa(e.Versions[0])] = true
		}
		for a := range acked {
			if !have[a] {
				t.Errorf("round %d: acknowledged write %s is missing after SIGKILL", round, a)
			}
		}
		if len(acked) == 0 {
			t.Errorf("round %d: the child acknowledged nothing before it was killed", round)
		}
		t.Logf("round %d: %d acknowledged, %d present", round, len(acked), len(log))
	}
}

// killChildAfter runs the child writing round's entries into db, kills it
// with SIGKILL after d (once it has acknowledged a first write), and
// returns the writes it acknowledged.
func killChildAfter(t *testing.T, db testDB, round int, d time.Duration) map[string]bool {
	t.Helper()
	cmd := childCommand(db, "TestDurabilityChild", childEnv+"="+db.dir, "SWITCHYARD_TRACKING_ROUND="+strconv.Itoa(round))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]bool{}
	first := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
				mu.Lock()
				acked[a] = true
				mu.Unlock()
				once.Do(func() { close(first) })
			}
		}
	}()
	select {
	case <-first:
	case <-done:
		cmd.Wait()
		t.Fatalf("round %d: the child ended before acknowledging a write", round)
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("round %d: the child acknowledged nothing in 30s", round)
	}
	time.Sleep(d)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done
	cmd.Wait()
	mu.Lock()
	defer mu.Unlock()
	return acked
}

// TestDurabilityChild is the child: it writes audit entries from four
// goroutines until it is killed, printing each acknowledged one.
func TestDurabilityChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("run by TestSIGKILLLosesNoAcknowledgedWrite only")
	}
	round := os.Getenv("SWITCHYARD_TRACKING_ROUND")
	s, err := childDB(childEnv).open(Config{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			actor := fmt.Sprint("child-", g)
			for i := 0; i < 1_000_000; i++ {
				err := s.Audit(context.Background(), Entry{Actor: actor, Action: "write", Model: "round-" + round, Versions: []int{i}})
				if err != nil {
					fmt.Fprintln(os.Stderr, "child:", err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Fprintf(w, "ack %s/%d\n", actor, i)
				w.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

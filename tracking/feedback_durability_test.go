package tracking

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// feedbackChildEnv tells the test binary, re-executed, to run as the
// child of TestSIGKILLLosesNoAcknowledgedFeedback.
const feedbackChildEnv = "SWITCHYARD_FEEDBACK_CHILD"

// TestSIGKILLLosesNoAcknowledgedFeedback starts a child that logs
// predictions through the prediction log's queue and writer while it
// joins labels to the ones committed, printing each label acknowledged;
// kills it with SIGKILL; and checks after reopening that every
// acknowledged label is joined and the database is sound.
func TestSIGKILLLosesNoAcknowledgedFeedback(t *testing.T) {
	if os.Getenv(feedbackChildEnv) != "" {
		t.Skip("this is the child's process")
	}
	db := newTestDB(t)
	for round := range 4 {
		cmd := childCommand(db, "TestFeedbackDurabilityChild", feedbackChildEnv+"="+db.dir, fmt.Sprint("SWITCHYARD_FEEDBACK_ROUND=", round))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := map[string]string{}
		sc := bufio.NewScanner(out)
		deadline := time.Now().Add(30 * time.Second)
		for len(acked) < 50+round*40 && time.Now().Before(deadline) && sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "ack" {
				acked[f[1]] = f[2]
			}
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for sc.Scan() { // what the child printed before it died was acknowledged too
			if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "ack" {
				acked[f[1]] = f[2]
			}
		}
		cmd.Wait()
		if len(acked) == 0 {
			t.Fatalf("round %d: the child acknowledged no label", round)
		}
		s, err := db.open(Config{})
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		if err := s.IntegrityCheck(context.Background()); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for id, label := range acked {
			p, err := s.Prediction(context.Background(), id)
			if err != nil || string(p.Label) != label {
				t.Errorf("round %d: acknowledged label %s of %s: have %s, %v", round, label, id, p.Label, err)
			}
		}
		s.Close()
		t.Logf("round %d: %d labels acknowledged, all present", round, len(acked))
	}
}

// TestFeedbackDurabilityChild is the child: it offers predictions to the
// log and labels each one once it is committed, until it is killed.
func TestFeedbackDurabilityChild(t *testing.T) {
	if os.Getenv(feedbackChildEnv) == "" {
		t.Skip("run by TestSIGKILLLosesNoAcknowledgedFeedback only")
	}
	round := os.Getenv("SWITCHYARD_FEEDBACK_ROUND")
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	s, err := childDB(feedbackChildEnv).open(Config{})
	if err != nil {
		fail(err)
	}
	l, err := NewPredictionLog(s, LogConfig{FlushEvery: 5 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}, prometheus.NewRegistry())
	if err != nil {
		fail(err)
	}
	go l.Run(context.Background())
	go func() {
		for i := 0; ; i++ {
			id := fmt.Sprintf("r%s-%d", round, i)
			if r := l.Take("m", []byte(id)); r != nil {
				r.Set(1, "", time.Now())
				r.AddScore(0.5)
				l.Offer(r)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		id := fmt.Sprintf("r%s-%d", round, i)
		for {
			if _, err := s.Prediction(context.Background(), id); err == nil {
				break
			}
			time.Sleep(time.Millisecond)
		}
		label := fmt.Sprint(i % 3)
		res, err := s.Feedback(context.Background(), []Label{{id, []byte(label)}})
		if err != nil {
			fail(err)
		}
		if res[0].Status == FeedbackAccepted {
			fmt.Fprintln(w, "ack", id, label)
			w.Flush()
		}
	}
}

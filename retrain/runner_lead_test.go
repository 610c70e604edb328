package retrain_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/internal/pgtest"
	"github.com/switchyard-ml/switchyard/lead"
	"github.com/switchyard-ml/switchyard/retrain"
)

// TestRunnerOnlyTheLeaderRetrains gives two replicas' runners the same
// alarm, each gated by a real Leader on one PostgreSQL database: the
// follower counts it as not_leader and starts nothing; the leader runs
// the command.
func TestRunnerOnlyTheLeaderRetrains(t *testing.T) {
	dsn := pgtest.New(t).DSN(t)
	leading := make(chan *lead.Leader, 2)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var leaders []*lead.Leader
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		for _, l := range leaders {
			l.Close()
		}
	})
	for range 2 {
		var l *lead.Leader
		l, err := lead.New(lead.Config{DSN: dsn, Retry: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
			OnChange: func(term int64) {
				if term != 0 {
					leading <- l
				}
			}}, prometheus.NewPedanticRegistry())
		if err != nil {
			t.Fatal(err)
		}
		leaders = append(leaders, l)
		wg.Go(func() { l.Run(ctx) })
	}
	var leader, follower *lead.Leader
	select {
	case leader = <-leading:
	case <-time.After(30 * time.Second):
		t.Fatal("no replica took the lead in 30s")
	}
	follower = leaders[0]
	if follower == leader {
		follower = leaders[1]
	}

	f := newFixture(t)
	f.policy(t, "drift", script(t, "true"), nil, "")
	r, reg, _ := f.start(t, retrain.Config{Leadership: follower})
	r.Fire(drift)
	for deadline := time.Now().Add(20 * time.Second); value(t, reg, "switchyard_retrain_skipped_total", "not_leader") != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the follower's alarm was not skipped as not_leader in 20s")
		}
	}
	if es := f.actions(t); len(es) != 0 {
		t.Fatalf("the follower's runner audited %+v; want nothing", es)
	}

	r, _, _ = f.start(t, retrain.Config{Leadership: leader})
	r.Fire(drift)
	f.waitFor(t, "retrain_started", "retrain_finished")
}

package rollout

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/internal/pgtest"
	"github.com/switchyard-ml/switchyard/lead"
)

// TestOnlyTheLeaderActs runs two replicas' controllers, each over its
// own fleet whose version 2 has just become ready with on_publish:
// canary, gated by two real Leaders on one PostgreSQL database: the
// leader's controller starts the canary and claims it in its term; the
// follower's judges the same and changes nothing.
func TestOnlyTheLeaderActs(t *testing.T) {
	dsn := pgtest.New(t).DSN(t)
	quiet := slog.New(slog.DiscardHandler)
	pol := DefaultPolicy()
	pol.OnPublish = Canary
	var replicas [2]struct {
		fleet *fleet
		lead  *lead.Leader
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		for _, r := range replicas {
			r.lead.Close()
		}
	})
	leading := make(chan int, 2)
	for i := range replicas {
		l, err := lead.New(lead.Config{DSN: dsn, Retry: 20 * time.Millisecond, Logger: quiet, OnChange: func(term int64) {
			if term != 0 {
				leading <- i
			}
		}}, prometheus.NewPedanticRegistry())
		if err != nil {
			t.Fatal(err)
		}
		replicas[i].fleet, replicas[i].lead = &fleet{policy: pol}, l
		wg.Go(func() { l.Run(ctx) })
	}
	var first int
	select {
	case first = <-leading:
	case <-time.After(30 * time.Second):
		t.Fatal("no replica took the lead in 30s")
	}
	// The controllers start once the role is settled, so that the
	// follower cannot have acted as the only replica.
	for _, r := range replicas {
		c := NewController(r.fleet, ControllerConfig{Tick: 10 * time.Millisecond, Leadership: r.lead, Logger: quiet})
		wg.Go(func() { c.Run(ctx) })
	}
	leader, follower := replicas[first].fleet, replicas[1-first].fleet
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, st := leader.snapshot()
		looked, _ := follower.snapshot()
		if st != nil && looked >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("in 30s the leader's state is %+v and the follower looked %d times", st, looked)
		}
	}
	if _, st := leader.snapshot(); st.Candidate != 2 || st.Weight != pol.Steps[0] {
		t.Errorf("the leader's state = %+v; want a canary of version 2", st)
	}
	if _, st := follower.snapshot(); st != nil {
		t.Errorf("the follower changed its rollout: %+v", st)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	var term int64
	if err := db.QueryRow(`SELECT count(*), max(term) FROM lead_decisions WHERE model = 'm' AND action = 'start'`).Scan(&n, &term); err != nil {
		t.Fatal(err)
	}
	if n != 1 || term != replicas[first].lead.Term() {
		t.Errorf("lead_decisions holds %d starts (term %d); want the leader's one, in its term %d", n, term, replicas[first].lead.Term())
	}
}

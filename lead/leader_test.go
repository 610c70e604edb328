package lead

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchyard-ml/switchyard/internal/pgtest"
)

// replica is a Leader running on its own goroutine, with the roles it
// reported through OnChange.
type replica struct {
	*Leader
	changes chan int64
	stop    func()
}

// start runs a Leader on dsn until the test ends or stop is called.
func start(t *testing.T, dsn string, ping time.Duration) *replica {
	t.Helper()
	r := &replica{changes: make(chan int64, 16)}
	l, err := New(Config{DSN: dsn, Retry: 20 * time.Millisecond, Ping: ping, OnChange: func(term int64) { r.changes <- term }},
		prometheus.NewPedanticRegistry())
	if err != nil {
		t.Fatal(err)
	}
	r.Leader = l
	ctx, cancel := context.WithCancel(context.Background())
	var done sync.WaitGroup
	done.Go(func() { l.Run(ctx) })
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			done.Wait()
			l.Close()
		})
	}
	t.Cleanup(r.stop)
	return r
}

// await returns the next role r reports, failing the test if none comes
// in 30s (a takeover needs one retry interval and one ping).
func (r *replica) await(t *testing.T) int64 {
	t.Helper()
	select {
	case term := <-r.changes:
		return term
	case <-time.After(30 * time.Second):
		t.Fatal("no change of role in 30s")
		return 0
	}
}

// database opens dsn for the test's own queries.
func database(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// lockHolder returns the pid of the session that holds the group's lock.
func lockHolder(t *testing.T, db *sql.DB) int {
	t.Helper()
	var pid int
	// Not the schema's transaction lock, which a replica starting up holds
	// for a moment: terminating its session instead would leave the
	// leader in place.
	q := fmt.Sprintf(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND NOT (classid = 0 AND objid = %d AND objsubid = 1)`, schemaLock)
	if err := db.QueryRow(q).Scan(&pid); err != nil {
		t.Fatalf("the lock's holder: %v", err)
	}
	return pid
}

// awaitRefused waits until a second lead session has tried the lock and
// been refused: its last statement is the rollback of a lost try.
func awaitRefused(t *testing.T, db *sql.DB, holder int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var n int
		err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'switchyard-lead' AND pid <> $1 AND query = 'rollback'`,
			holder).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
	}
	t.Fatal("the second replica did not try the lock in 30s")
}

// TestOneLeaderAndHandover runs two replicas: the first takes term 1,
// the second tries and follows; when the leader's session is terminated
// it loses the role and the second takes term 2; when that one stops,
// the first takes term 3.
func TestOneLeaderAndHandover(t *testing.T) {
	dsn := pgtest.New(t).DSN(t)
	db := database(t, dsn)
	a := start(t, dsn, 20*time.Millisecond)
	if term := a.await(t); term != 1 || !a.IsLeader() || a.Term() != 1 {
		t.Fatalf("the first replica reports term %d (IsLeader %v, Term %d); want 1", term, a.IsLeader(), a.Term())
	}
	b := start(t, dsn, 20*time.Millisecond)
	awaitRefused(t, db, lockHolder(t, db))
	if b.IsLeader() || b.Term() != 0 {
		t.Fatalf("both replicas lead: the second has term %d", b.Term())
	}
	if got := [2]float64{testutil.ToFloat64(a.m.leader), testutil.ToFloat64(b.m.leader)}; got != [2]float64{1, 0} {
		t.Errorf("switchyard_lead_leader of the two = %v; want [1 0]", got)
	}
	if err := b.Claim(context.Background(), "m", "promote", "r"); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("a follower's Claim = %v; want ErrNotLeader", err)
	}

	if _, err := db.Exec(`SELECT pg_terminate_backend($1)`, lockHolder(t, db)); err != nil {
		t.Fatal(err)
	}
	if term := a.await(t); term != 0 || a.IsLeader() {
		t.Fatalf("after its session ended the first replica reports term %d; want 0", term)
	}
	if term := b.await(t); term != 2 || !b.IsLeader() {
		t.Fatalf("the second replica reports term %d; want 2", term)
	}

	b.stop()
	if term := a.await(t); term != 3 {
		t.Fatalf("after the leader stopped the first replica reports term %d; want 3", term)
	}
}

// TestStaleLeaderIsFenced terminates the leader's session while its ping
// is far off, so that it still believes it leads when the second replica
// takes term 2: its claim is refused, it steps down, and only the
// current leader's claims are recorded.
func TestStaleLeaderIsFenced(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.New(t).DSN(t)
	db := database(t, dsn)
	a := start(t, dsn, time.Hour)
	if term := a.await(t); term != 1 {
		t.Fatalf("the first replica reports term %d; want 1", term)
	}
	if err := a.Claim(ctx, "m", "advance", "step 1 healthy"); err != nil {
		t.Fatalf("the leader's Claim = %v", err)
	}
	b := start(t, dsn, time.Hour)
	if _, err := db.Exec(`SELECT pg_terminate_backend($1)`, lockHolder(t, db)); err != nil {
		t.Fatal(err)
	}
	if term := b.await(t); term != 2 {
		t.Fatalf("the second replica reports term %d; want 2", term)
	}
	if !a.IsLeader() {
		t.Fatal("the first replica noticed the loss without a ping; the test needs it stale")
	}
	if err := a.Claim(ctx, "m", "promote", "stale"); !errors.Is(err, ErrFenced) {
		t.Fatalf("the stale leader's Claim = %v; want ErrFenced", err)
	}
	if a.IsLeader() {
		t.Fatal("a fenced replica still leads")
	}
	if term := a.await(t); term != 0 {
		t.Fatalf("the fenced replica reports term %d; want 0", term)
	}
	if err := b.Claim(ctx, "m", "rollback", "step 2 failed"); err != nil {
		t.Fatalf("the new leader's Claim = %v", err)
	}
	rows, err := db.Query(`SELECT term, action FROM lead_decisions ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var term int
		var action string
		if err := rows.Scan(&term, &action); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s@%d", action, term))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "advance@1" || got[1] != "rollback@2" {
		t.Fatalf("lead_decisions = %v; want [advance@1 rollback@2]: the stale claim must leave nothing", got)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, dsn := range []string{"", "postgres://%zz"} {
		if _, err := New(Config{DSN: dsn}, prometheus.NewPedanticRegistry()); err == nil {
			t.Errorf("New(%q) = nil error; want one", dsn)
		}
	}
}

// TestNoServerNoRole runs a Leader against a port where nothing listens:
// it never leads, and its claims are refused.
func TestNoServerNoRole(t *testing.T) {
	l, err := New(Config{DSN: "postgres://nobody@127.0.0.1:1/none?connect_timeout=1", Retry: 10 * time.Millisecond},
		prometheus.NewPedanticRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	if err := l.Claim(ctx, "m", "promote", "r"); !errors.Is(err, ErrNotLeader) || l.IsLeader() {
		t.Errorf("Claim without a server = %v (IsLeader %v); want ErrNotLeader", err, l.IsLeader())
	}
	cancel()
	<-done
}

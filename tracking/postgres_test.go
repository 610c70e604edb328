package tracking

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestNumbered(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := numbered(in); got != want {
			t.Errorf("numbered(%q) = %q; want %q", in, got, want)
		}
	}
	f("SELECT 1", "SELECT 1")
	f("a = ? AND b IN (?, ?)", "a = $1 AND b IN ($2, $3)")
	f(`x LIKE '?%' AND "we?rd" = ?`, `x LIKE '?%' AND "we?rd" = $1`)
	f(`'it''s ?' = ?`, `'it''s ?' = $1`)
}

func TestOpenPostgresRefusesBadDSN(t *testing.T) {
	ctx := context.Background()
	for _, dsn := range []string{"postgres://%zz", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"} {
		s, err := OpenPostgres(ctx, dsn, t.TempDir(), Config{})
		if err == nil {
			s.Close()
			t.Fatalf("OpenPostgres(%q) = nil error; want one", dsn)
		}
		if !strings.HasPrefix(err.Error(), "tracking: PostgreSQL") {
			t.Errorf("OpenPostgres(%q) = %v; want an error naming PostgreSQL", dsn, err)
		}
	}
}

// TestReplicasMigrateOnce opens one PostgreSQL database from several
// stores at once, as replicas starting together do: each must open (the
// migration runs once, under its lock) and see the others' writes.
func TestReplicasMigrateOnce(t *testing.T) {
	if cluster == nil {
		t.Skip("PostgreSQL only: SQLite's database is one replica's")
	}
	ctx := context.Background()
	db := newTestDB(t)
	const n = 4
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = db.open(Config{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("store %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	for i, s := range stores {
		if err := s.Audit(ctx, Entry{Actor: fmt.Sprint("replica-", i), Action: "loaded", Model: "m", Versions: []int{1}}); err != nil {
			t.Fatal(err)
		}
	}
	log, err := stores[0].AuditLog(ctx, AuditQuery{Model: "m"})
	if err != nil || len(log) != n {
		t.Fatalf("AuditLog = %d entries, %v; want %d", len(log), err, n)
	}
	var versions int
	if err := stores[0].db.QueryRowContext(ctx, `SELECT count(*) FROM schema_version`).Scan(&versions); err != nil || versions != 1 {
		t.Fatalf("schema_version holds %d rows, %v; want 1", versions, err)
	}
}

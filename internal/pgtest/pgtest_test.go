package pgtest

import (
	"context"
	"database/sql"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

var cluster *Cluster

func TestMain(m *testing.M) {
	cluster = Start()
	code := m.Run()
	if err := cluster.Stop(); err != nil && code == 0 {
		os.Stderr.WriteString(err.Error() + "\n")
		code = 1
	}
	os.Exit(code)
}

// TestClusterKeepsCommittedRowsOverRestart writes a row in one database,
// restarts the server, and reads it back; a second database is separate.
func TestClusterKeepsCommittedRowsOverRestart(t *testing.T) {
	ctx := context.Background()
	dsn := cluster.DSN(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE TABLE kv (k text PRIMARY KEY, v text NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO kv VALUES ($1, $2)", "a", "one"); err != nil {
		t.Fatal(err)
	}
	cluster.Restart(t)
	db.SetMaxIdleConns(0) // the old connections died with the server
	var v string
	if err := db.QueryRowContext(ctx, "SELECT v FROM kv WHERE k = $1", "a").Scan(&v); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if v != "one" {
		t.Fatalf("after restart: v = %q, want one", v)
	}

	other, err := sql.Open("pgx", cluster.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.QueryRowContext(ctx, "SELECT v FROM kv").Scan(&v); err == nil {
		t.Fatal("a second database sees the first one's table")
	}
}

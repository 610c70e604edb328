package tracking

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/pgtest"
)

// backendEnv selects the database the suite runs on: unset, SQLite; with
// "postgres", a throwaway PostgreSQL cluster; with "child", the database
// a parent test named (childCommand). TestMain runs the suite on SQLite,
// then runs this same test binary again on PostgreSQL.
const backendEnv = "SWITCHYARD_TRACKING_TEST_BACKEND"

// dsnEnv carries a parent test's PostgreSQL database to its child.
const dsnEnv = "SWITCHYARD_TRACKING_TEST_DSN"

// cluster is the PostgreSQL cluster of the PostgreSQL pass, else nil.
var cluster *pgtest.Cluster

func TestMain(m *testing.M) {
	switch os.Getenv(backendEnv) {
	case "child":
		os.Exit(m.Run())
	case "postgres":
		cluster = pgtest.Start()
		code := m.Run()
		if err := cluster.Stop(); err != nil && code == 0 {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
		os.Exit(code)
	}
	code := m.Run()
	fmt.Fprintln(os.Stderr, "tracking: the same suite on PostgreSQL:")
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), backendEnv+"=postgres")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil && code == 0 {
		fmt.Fprintln(os.Stderr, "tracking: PostgreSQL pass:", err)
		code = 1
	}
	os.Exit(code)
}

// testDB is one database of the suite's backend and the data directory
// beside it (which holds the prediction log's segments, and on SQLite the
// database file too). Opening it again reopens the same data.
type testDB struct {
	dir string
	dsn string // the PostgreSQL database; empty on SQLite
}

// newTestDB returns a fresh, empty database of the suite's backend.
func newTestDB(t testing.TB) testDB {
	t.Helper()
	d := testDB{dir: t.TempDir()}
	if cluster != nil {
		d.dsn = cluster.DSN(t)
	}
	return d
}

// open opens a store on d.
func (d testDB) open(cfg Config) (*Store, error) {
	if d.dsn != "" {
		return OpenPostgres(context.Background(), d.dsn, d.dir, cfg)
	}
	return Open(context.Background(), d.dir, cfg)
}

// openTest opens a store on a fresh database, closed at the test's end.
func openTest(t testing.TB) *Store {
	t.Helper()
	return openAt(t, newTestDB(t), Config{})
}

// openAt opens a store on d, closed at the test's end.
func openAt(t testing.TB, d testDB, cfg Config) *Store {
	t.Helper()
	s, err := d.open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// childCommand runs this test binary's test named run as a child working
// on d: the child reads d back with childDB, and env adds to its
// environment.
func childCommand(d testDB, run string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^"+run+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), append(env, backendEnv+"=child", dsnEnv+"="+d.dsn)...)
	return cmd
}

// childDB is the database a child's parent named, whose directory is
// the value of dirEnv.
func childDB(dirEnv string) testDB {
	return testDB{dir: os.Getenv(dirEnv), dsn: os.Getenv(dsnEnv)}
}

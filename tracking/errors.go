package tracking

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var (
	// ErrNotFound is wrapped when an experiment, run, dataset or other
	// record named by id or name does not exist.
	ErrNotFound = errors.New("tracking: not found")
	// ErrExists is wrapped when a record to be created already exists,
	// such as an experiment of the same name.
	ErrExists = errors.New("tracking: already exists")
	// ErrInvalid is wrapped when a value breaks a rule: a key or value
	// too long, a batch over its limits, a param whose value would
	// change, a malformed filter, an operation on a deleted run.
	ErrInvalid = errors.New("tracking: invalid value")
	// ErrClosed is returned by every method once the Store is closed.
	ErrClosed = errors.New("tracking: store closed")
	// ErrNoSpace is wrapped by Artifacts.Put when the disk (or the
	// user's quota) is full: the upload may succeed once space is freed.
	ErrNoSpace = errors.New("tracking: no space left for artifacts")
)

// existsError wraps err with ErrExists when it is the database refusing
// a row that a unique constraint already holds: a check-then-insert that
// another writer (another replica, on PostgreSQL) overtook between the
// two, which its caller tells apart from a failure as ErrExists.
func existsError(err error) error {
	if err == nil || errors.Is(err, ErrExists) || !uniqueViolation(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrExists, err)
}

// uniqueViolation reports whether err is a unique constraint's refusal:
// SQLite's SQLITE_CONSTRAINT_UNIQUE or _PRIMARYKEY, PostgreSQL's
// unique_violation.
func uniqueViolation(err error) bool {
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		return lite.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || lite.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == pgUniqueViolation
}

// pgUniqueViolation is PostgreSQL's SQLSTATE unique_violation.
const pgUniqueViolation = "23505"

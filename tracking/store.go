package tracking

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// FileName is the database's file name in the data directory.
const FileName = "tracking.db"

// Defaults of Config.
const (
	DefaultMaxBatch   = 256
	DefaultQueueDepth = 1024
)

// Config configures a Store. The zero value is valid.
type Config struct {
	// MaxBatch is the most writes the writer commits in one transaction.
	// 0 means DefaultMaxBatch.
	MaxBatch int
	// QueueDepth bounds the writes waiting for the writer; a caller finding
	// it full waits (writes are never dropped). 0 means DefaultQueueDepth.
	QueueDepth int
	// Logger receives the writer's errors. Nil means slog.Default().
	Logger *slog.Logger
	// SegmentBytes and SegmentAge bound a segment of the prediction log:
	// it is sealed, and a new one begun, at this size or this long after
	// it was begun. 0 means DefaultSegmentBytes and DefaultSegmentAge.
	SegmentBytes int64
	SegmentAge   time.Duration
}

// Store is the tracking store: one SQLite file in WAL mode (Open) or a
// PostgreSQL database (OpenPostgres), and in the data directory the
// prediction log's segment files (PredictionsDir), which Close seals.
//
// Reads run on any goroutine, concurrently. Writes go through one writer
// goroutine, started by Open and ended by Close, which gathers the writes
// waiting for it into one transaction, each in a savepoint of its own so
// that one failing write does not undo the others, and answers each
// caller only once the transaction has committed with synchronous=FULL:
// a write acknowledged to a caller survives SIGKILL and power loss.
//
// Every method is safe for concurrent use and takes a context first.
type Store struct {
	db     *sql.DB
	preds  *segmentLog
	cfg    Config
	log    *slog.Logger
	writes chan write
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
	pg     bool // the database is PostgreSQL (OpenPostgres)
}

// write is one unit of work for the writer goroutine.
type write struct {
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error
}

//go:embed migrations/*.sql
var migrations embed.FS

// Open opens (creating if need be) the database tracking.db in dir,
// applies the migrations it lacks, and starts the writer.
func Open(ctx context.Context, dir string, cfg Config) (*Store, error) {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.QueueDepth <= 0 {
		cfg.QueueDepth = DefaultQueueDepth
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tracking: %w", err)
	}
	path := filepath.Join(dir, FileName)
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)", "busy_timeout(10000)"} {
		q.Add("_pragma", p)
	}
	// Every transaction here writes: take the write lock at BEGIN, where
	// busy_timeout waits for another process's writer, instead of failing
	// at once with SQLITE_BUSY when a read snapshot must be upgraded.
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("tracking: open %s: %w", path, err)
	}
	return start(ctx, db, false, dir, path, cfg)
}

// start migrates db and starts the writer; where names the database in
// errors.
func start(ctx context.Context, db *sql.DB, pg bool, dir, where string, cfg Config) (*Store, error) {
	s := &Store{db: db, pg: pg, preds: newSegmentLog(dir, cfg.SegmentBytes, cfg.SegmentAge), cfg: cfg, log: cfg.Logger, writes: make(chan write, cfg.QueueDepth),
		stop: make(chan struct{}), done: make(chan struct{})}
	if s.log == nil {
		s.log = slog.Default()
	}
	var err error
	if pg {
		err = s.migratePostgres(ctx)
	} else {
		err = s.migrate(ctx)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("tracking: %s: %w", where, err)
	}
	go s.writer()
	return s, nil
}

// migrate applies, in order and each in its own transaction, the
// migrations whose number is above the database's user_version.
func (s *Store) migrate(ctx context.Context) error {
	var have int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	return eachMigration(migrations, "migrations/*.sql", func(name string, n int, body string) error {
		if n <= have {
			return nil
		}
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, body); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", n)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
		return nil
	})
}

// eachMigration calls fn with each migration of fsys that pattern
// matches, in the order of their numbers (the file name's prefix before
// "_"), and stops at the first error.
func eachMigration(fsys embed.FS, pattern string, fn func(name string, n int, body string) error) error {
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, name := range names {
		n, err := strconv.Atoi(strings.SplitN(filepath.Base(name), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("BUG: migration %s has no number", name)
		}
		body, err := fsys.ReadFile(name)
		if err != nil {
			return err
		}
		if err := fn(name, n, string(body)); err != nil {
			return err
		}
	}
	return nil
}

// Close stops the writer once the writes already queued are committed,
// then closes the database. It may be called more than once.
func (s *Store) Close() error {
	var err error
	s.once.Do(func() {
		close(s.stop)
		<-s.done
		err = errors.Join(s.preds.close(), s.db.Close())
	})
	return err
}

// IntegrityCheck runs SQLite's PRAGMA integrity_check and returns an error
// naming the first problems it reports, if any. On PostgreSQL, which
// checks its own pages and has no such pragma, it returns nil.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	if s.pg {
		return nil // PostgreSQL checks its pages itself; SQLite's pragma has no counterpart
	}
	rows, err := s.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("tracking: integrity check: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("tracking: integrity check: %w", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("tracking: integrity check: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("tracking: integrity check: %s", strings.Join(problems, "; "))
	}
	return nil
}

// exec hands fn to the writer and returns once the transaction holding it
// has committed (nil) or fn failed (its error; nothing it did is kept).
// If ctx is done first, exec returns ctx's error, and fn may or may not
// be committed later: the write was not acknowledged.
func (s *Store) exec(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	select {
	case <-s.stop:
		return ErrClosed
	default:
	}
	w := write{fn: fn, done: make(chan error, 1)}
	select {
	case s.writes <- w:
	case <-s.stop:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-w.done:
		return err
	case <-s.done:
		// The writer stopped; it answered w if it took it.
		select {
		case err := <-w.done:
			return err
		default:
			return ErrClosed
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writer is the one goroutine that writes. It ends, once what is queued
// is committed, when Close is called.
func (s *Store) writer() {
	defer close(s.done)
	batch := make([]write, 0, s.cfg.MaxBatch)
	for {
		var first write
		select {
		case first = <-s.writes:
		case <-s.stop:
			// Commit what was queued before Close, then stop.
			for {
				select {
				case w := <-s.writes:
					s.commit([]write{w})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	gather:
		for len(batch) < s.cfg.MaxBatch {
			select {
			case w := <-s.writes:
				batch = append(batch, w)
			default:
				break gather
			}
		}
		s.commit(batch)
		clear(batch)
	}
}

// commit runs a batch of writes in one transaction, each in a savepoint,
// and answers each once the transaction has committed.
func (s *Store) commit(batch []write) {
	ctx := context.Background() // writes are not cancelled once taken
	errs := make([]error, len(batch))
	tx, err := s.db.BeginTx(ctx, nil)
	if err == nil {
		for i, w := range batch {
			errs[i] = s.inSavepoint(ctx, tx, w.fn)
		}
		err = tx.Commit()
	}
	if err != nil {
		s.log.Error("tracking: a write transaction failed", "writes", len(batch), "error", err)
		if tx != nil {
			tx.Rollback()
		}
		err = fmt.Errorf("tracking: commit: %w", err)
	}
	for i, w := range batch {
		if err != nil {
			w.done <- err
		} else {
			w.done <- errs[i]
		}
	}
}

func (s *Store) inSavepoint(ctx context.Context, tx *sql.Tx, fn func(context.Context, *sql.Tx) error) error {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
		return err
	}
	if err := existsError(fn(ctx, tx)); err != nil {
		if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO w"); rerr != nil {
			return errors.Join(err, rerr)
		}
		tx.ExecContext(ctx, "RELEASE w")
		return err
	}
	_, err := tx.ExecContext(ctx, "RELEASE w")
	return err
}

// now returns the time in Unix milliseconds, as MLflow records it.
func now() int64 { return time.Now().UnixMilli() }

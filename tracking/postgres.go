package tracking

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"os"
)

//go:embed migrations/postgres/*.sql
var pgMigrations embed.FS

// OpenPostgres opens the tracking store on the PostgreSQL database named
// by dsn (postgres://...), applying the migrations it lacks, and starts
// the writer. The prediction log's segment files stay in dir, as with
// Open. The store behaves as Open's: one writer batching writes into
// transactions, each write in a savepoint of its own, acknowledged once
// committed.
func OpenPostgres(ctx context.Context, dsn, dir string, cfg Config) (*Store, error) {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.QueueDepth <= 0 {
		cfg.QueueDepth = DefaultQueueDepth
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tracking: %w", err)
	}
	conn, err := newPGConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("tracking: PostgreSQL DSN: %w", err)
	}
	db := sql.OpenDB(conn)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("tracking: PostgreSQL: %w", err)
	}
	return start(ctx, db, true, dir, "PostgreSQL", cfg)
}

// migrationLock is the key of the transaction advisory lock that
// serialises migrations, so that replicas starting together migrate once.
const migrationLock = 7413

// migratePostgres applies the PostgreSQL migrations above the version in
// schema_version, each in its own transaction holding migrationLock.
// Their numbers follow SQLite's: migrations/postgres/0007_schema.sql is
// the schema SQLite reaches with migration 7, and each later migration
// comes in both directories under the same number.
func (s *Store) migratePostgres(ctx context.Context) error {
	return eachMigration(pgMigrations, "migrations/postgres/*.sql", func(name string, n int, body string) error {
		return s.applyPostgres(ctx, name, n, body)
	})
}

// applyPostgres applies migration n, named name, unless the database has
// it already.
func (s *Store) applyPostgres(ctx context.Context, name string, n int, body string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, migrationLock); err != nil {
		return fmt.Errorf("migration %s: lock: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	var have int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if n <= have {
		return nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, n); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	return nil
}

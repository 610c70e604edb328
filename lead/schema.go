package lead

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// schemaLock keys the transaction advisory lock under which replicas
// create the tables, so that those starting together create them once.
const schemaLock = 7414

// schema is the package's tables: each group's latest term, and the
// decisions its leaders claimed, each with the term it was claimed in.
const schema = `
CREATE TABLE IF NOT EXISTS lead_terms (
	grp  TEXT   PRIMARY KEY,
	term BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS lead_decisions (
	id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	grp    TEXT        NOT NULL,
	term   BIGINT      NOT NULL,
	time   TIMESTAMPTZ NOT NULL DEFAULT now(),
	model  TEXT        NOT NULL,
	action TEXT        NOT NULL,
	reason TEXT        NOT NULL
);
CREATE INDEX IF NOT EXISTS lead_decisions_by_model ON lead_decisions (grp, model, id);
`

// migrate creates the tables when they are missing, once per Leader.
func (l *Leader) migrate(ctx context.Context, conn *pgx.Conn) error {
	if l.ready.Load() {
		return nil
	}
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(schemaLock)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, schema)
		return err
	})
	if err != nil {
		return fmt.Errorf("lead: create tables: %w", err)
	}
	l.ready.Store(true)
	return nil
}

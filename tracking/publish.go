package tracking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Publication is what the store records of a model version as it is
// published: its lineage, what MLflow keeps of it, the end of the run that
// produced it and the audit entry. RecordPublish writes it whole or not at
// all.
type Publication struct {
	// Model and Version name the version.
	Model   string
	Version int
	// RunID, when not empty, links the version to the run that produced
	// it, as LinkVersion does.
	RunID string
	// EndRun marks that run FINISHED now: the publish created it.
	EndRun bool
	// Meta, when not nil, is what MLflow keeps of the version, as
	// PutModelVersion records it; its Name and Version are taken from
	// Model and Version.
	Meta *ModelVersion
	// Entry is the publish's audit entry; its Action ("publish"), Model
	// and Versions are taken from the publication.
	Entry Entry
}

// Recorded is a publication as RecordPublish recorded it, for
// UndoPublish. It is opaque.
type Recorded struct {
	p       Publication
	auditID int64
	// The run's status and end time before EndRun changed them.
	runStatus string
	runEnd    sql.NullInt64
}

// RecordPublish records p in one transaction: the lineage, the MLflow
// record, the run's end and the audit entry are all committed, or none
// is. It fails as LinkVersion, PutModelVersion, UpdateRun and Audit do:
// with ErrNotFound for an unknown run, ErrExists for a version linked to
// another run, ErrInvalid for a bad tag, audit entry or deleted run.
func (s *Store) RecordPublish(ctx context.Context, p Publication) (*Recorded, error) {
	p.Entry.Action, p.Entry.Model, p.Entry.Versions = "publish", p.Model, []int{p.Version}
	insert, err := auditInsert(p.Entry)
	if err != nil {
		return nil, err
	}
	if p.Meta != nil {
		meta := *p.Meta
		meta.Name, meta.Version = p.Model, p.Version
		if err := validateTags(meta.Tags); err != nil {
			return nil, err
		}
		p.Meta = &meta
	}
	r := &Recorded{p: p}
	err = s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if p.RunID != "" {
			if err := linkVersion(ctx, tx, p.Model, p.Version, p.RunID); err != nil {
				return err
			}
		}
		if p.Meta != nil {
			if err := putModelVersion(ctx, tx, *p.Meta); err != nil {
				return err
			}
		}
		if p.RunID != "" && p.EndRun {
			if err := activeRun(ctx, tx, p.RunID); err != nil {
				return err
			}
			err := tx.QueryRowContext(ctx, `SELECT status, end_time FROM runs WHERE run_id = ?`, p.RunID).Scan(&r.runStatus, &r.runEnd)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, end_time = ? WHERE run_id = ?`, StatusFinished, now(), p.RunID); err != nil {
				return err
			}
		}
		r.auditID, err = insert(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("record the publish of %s version %d: %w", p.Model, p.Version, err)
	}
	return r, nil
}

// UndoPublish forgets, in one transaction, what RecordPublish recorded of
// a version that then did not appear in the registry: its lineage, its
// MLflow record and its audit entry go, and the run's status and end time
// are restored.
func (s *Store) UndoPublish(ctx context.Context, r *Recorded) error {
	if r == nil {
		return errors.New("tracking: undo publish: nothing recorded")
	}
	p := r.p
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if p.RunID != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM lineage WHERE model = ? AND version = ? AND run_id = ?`, p.Model, p.Version, p.RunID); err != nil {
				return err
			}
		}
		if p.Meta != nil {
			for _, table := range []string{"model_versions", "model_version_tags"} {
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE name = ? AND version = ?`, p.Model, p.Version); err != nil {
					return err
				}
			}
		}
		if p.RunID != "" && p.EndRun {
			if _, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, end_time = ? WHERE run_id = ?`, r.runStatus, r.runEnd, p.RunID); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM audit WHERE id = ?`, r.auditID)
		return err
	})
	if err != nil {
		return fmt.Errorf("undo the publish of %s version %d: %w", p.Model, p.Version, err)
	}
	return nil
}

package tracking

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Entry is one record of the audit trail: who did what to which model
// versions, when and why.
type Entry struct {
	// ID orders the entries; set by the store.
	ID int64
	// Time is when it happened; zero means now.
	Time time.Time
	// Actor is who or what did it: a user, "controller", "watcher".
	Actor string
	// Action is what was done, such as "publish", "promote", "rollback".
	Action string
	// Model and Versions name what it was done to.
	Model    string
	Versions []int
	// Reason says why, in the actor's words.
	Reason string
	// Details carries the numbers and anything else, as a JSON object.
	Details map[string]any
}

// Audit appends e to the audit trail; it returns once e is committed. It
// fails with ErrInvalid without an actor, an action or a model.
func (s *Store) Audit(ctx context.Context, e Entry) error {
	insert, err := auditInsert(e)
	if err != nil {
		return err
	}
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := insert(ctx, tx)
		return err
	})
}

// auditInsert checks e as Audit does and returns the statement that
// appends it within a transaction, which returns the entry's ID.
func auditInsert(e Entry) (func(context.Context, *sql.Tx) (int64, error), error) {
	if e.Actor == "" || e.Action == "" || e.Model == "" {
		return nil, fmt.Errorf("%w: an audit entry needs an actor, an action and a model", ErrInvalid)
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.Versions == nil {
		e.Versions = []int{}
	}
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	versions, err := json.Marshal(e.Versions)
	if err != nil {
		return nil, fmt.Errorf("tracking: audit: %w", err)
	}
	details, err := json.Marshal(e.Details)
	if err != nil {
		return nil, fmt.Errorf("%w: audit details: %v", ErrInvalid, err)
	}
	return func(ctx context.Context, tx *sql.Tx) (int64, error) {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO audit (time, actor, action, model, versions, reason, details) VALUES (?, ?, ?, ?, ?, ?, ?)
			RETURNING id`, e.Time.UnixMilli(), e.Actor, e.Action, e.Model, string(versions), e.Reason, string(details)).Scan(&id)
		return id, err
	}, nil
}

// AuditQuery selects audit entries.
type AuditQuery struct {
	// Model, when set, keeps only that model's entries.
	Model string
	// Actions, when not empty, keeps only entries with one of these
	// actions; ExceptActions, when not empty, drops entries with one of
	// those.
	Actions, ExceptActions []string
	// Version, when positive, keeps only entries that name that version
	// (Entry.Versions holds it).
	Version int
	// Since, when not zero, keeps entries at or after it.
	Since time.Time
	// Limit bounds the entries returned, the newest (see AuditLog);
	// 0 means 100.
	Limit int
}

// AuditLog returns audit entries matching q, newest first: by the time
// each happened (Entry.Time, in milliseconds), then, for entries of the
// same millisecond, the one recorded last (the greater ID) first. Time
// decides because entries are not recorded in the order they happen: a
// publish is stamped when it begins and recorded when it ends, after the
// gate verdict it caused.
func (s *Store) AuditLog(ctx context.Context, q AuditQuery) ([]Entry, error) {
	cond, args := []string{"TRUE"}, []any{}
	if q.Model != "" {
		cond, args = append(cond, "model = ?"), append(args, q.Model)
	}
	if len(q.Actions) > 0 {
		cond = append(cond, "action IN (?"+strings.Repeat(", ?", len(q.Actions)-1)+")")
		for _, a := range q.Actions {
			args = append(args, a)
		}
	}
	if len(q.ExceptActions) > 0 {
		cond = append(cond, "action NOT IN (?"+strings.Repeat(", ?", len(q.ExceptActions)-1)+")")
		for _, a := range q.ExceptActions {
			args = append(args, a)
		}
	}
	if q.Version > 0 {
		// versions is a JSON array of numbers without spaces ("[1,2]"): as
		// ",1,2," it holds ",V," exactly when it names V, on SQLite and
		// PostgreSQL alike.
		cond = append(cond, "replace(replace(audit.versions, '[', ','), ']', ',') LIKE ?")
		args = append(args, "%,"+strconv.Itoa(q.Version)+",%")
	}
	if !q.Since.IsZero() {
		cond, args = append(cond, "time >= ?"), append(args, q.Since.UnixMilli())
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, time, actor, action, model, versions, reason, details FROM audit
		WHERE `+strings.Join(cond, " AND ")+` ORDER BY time DESC, id DESC LIMIT ?`, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("tracking: read audit: %w", err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var e Entry
		var t int64
		var versions, details string
		if err := rows.Scan(&e.ID, &t, &e.Actor, &e.Action, &e.Model, &versions, &e.Reason, &details); err != nil {
			return nil, fmt.Errorf("tracking: read audit: %w", err)
		}
		e.Time = time.UnixMilli(t)
		if err := json.Unmarshal([]byte(versions), &e.Versions); err != nil {
			return nil, fmt.Errorf("tracking: read audit: %w", err)
		}
		if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
			return nil, fmt.Errorf("tracking: read audit: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

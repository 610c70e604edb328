package tracking

import (
	"context"
	"database/sql"
)

// SetRegisteredModelTag sets a tag of a registered model, replacing the
// value a tag of that key had, and records the model first if need be.
// It fails with ErrInvalid when the key or value is not one MLflow
// accepts. The caller checks that the model exists in the registry.
func (s *Store) SetRegisteredModelTag(ctx context.Context, name string, tag Tag) error {
	if err := validateTags([]Tag{tag}); err != nil {
		return err
	}
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		t := now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO registered_models (name, creation_time, last_updated_time) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET last_updated_time = excluded.last_updated_time`, name, t, t); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)
			ON CONFLICT (name, key) DO UPDATE SET value = excluded.value`, name, tag.Key, tag.Value)
		return err
	})
}

// DeleteRegisteredModelTag removes a tag of a registered model; removing
// one that does not exist is not an error, as in MLflow's stores. It
// fails with ErrInvalid when key is not a tag name MLflow accepts.
func (s *Store) DeleteRegisteredModelTag(ctx context.Context, name, key string) error {
	if err := validateKey("tag", key); err != nil {
		return err
	}
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM registered_model_tags WHERE name = ? AND key = ?`, name, key)
		return err
	})
}

// SetModelVersionTag sets a tag of a model version, replacing the value a
// tag of that key had, and records the version first if need be. It
// fails with ErrInvalid when the key or value is not one MLflow accepts.
// The caller checks that the version exists in the registry.
func (s *Store) SetModelVersionTag(ctx context.Context, name string, version int, tag Tag) error {
	if err := validateTags([]Tag{tag}); err != nil {
		return err
	}
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		t := now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO model_versions (name, version, creation_time, last_updated_time)
			VALUES (?, ?, ?, ?) ON CONFLICT (name, version) DO UPDATE SET last_updated_time = excluded.last_updated_time`,
			name, version, t, t); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)
			ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value`, name, version, tag.Key, tag.Value)
		return err
	})
}

// DeleteModelVersionTag removes a tag of a model version; removing one
// that does not exist is not an error, as in MLflow's stores.
func (s *Store) DeleteModelVersionTag(ctx context.Context, name string, version int, key string) error {
	if err := validateKey("tag", key); err != nil {
		return err
	}
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?`, name, version, key)
		return err
	})
}

package tracking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// RegisteredModel is what the store keeps of a model of the registry:
// MLflow's description, tags and aliases. Which models and versions
// exist is the registry directory's to say, not the store's.
type RegisteredModel struct {
	Name        string
	Description string
	// CreationTime and LastUpdatedTime are Unix milliseconds.
	CreationTime    int64
	LastUpdatedTime int64
	Tags            []Tag
	Aliases         []Alias
}

// Alias names a version of a registered model, such as "champion".
type Alias struct {
	Alias   string
	Version int
}

// ModelVersion is what the store keeps of a version of the registry.
type ModelVersion struct {
	Name        string
	Version     int
	Description string
	// Source is where the version's model came from, as MLflow names it.
	Source string
	UserID string
	// CurrentStage is MLflow's stage of the version (see Stages); None
	// until it is transitioned.
	CurrentStage string
	// CreationTime and LastUpdatedTime are Unix milliseconds.
	CreationTime    int64
	LastUpdatedTime int64
	Tags            []Tag
}

// validAlias matches MLflow's alias names; versionAlias the names it
// reserves for versions.
var (
	validAlias   = regexp.MustCompile(`^[\w\-]*$`)
	versionAlias = regexp.MustCompile(`^[vV]\d+$`)
)

// ValidateAlias checks an alias as MLflow does: word characters and
// dashes, at most 255, neither "latest" nor of the form v3.
func ValidateAlias(alias string) error {
	switch {
	case alias == "":
		return fmt.Errorf("%w: missing value for required parameter 'alias'", ErrInvalid)
	case len(alias) > 255 || !validAlias.MatchString(alias):
		return fmt.Errorf("%w: invalid alias name: '%s'; names may only contain alphanumerics, underscores (_) and dashes (-), up to 255 characters", ErrInvalid, alias)
	case strings.EqualFold(alias, "latest"):
		return fmt.Errorf("%w: '%s' alias name (case insensitive) is reserved", ErrInvalid, alias)
	case versionAlias.MatchString(alias):
		return fmt.Errorf("%w: version alias name '%s' is reserved", ErrInvalid, alias)
	}
	return nil
}

// CreateRegisteredModel records a registered model's description and
// tags. It fails with ErrExists when the model is already recorded.
func (s *Store) CreateRegisteredModel(ctx context.Context, name, description string, tags []Tag) error {
	if err := validateTags(tags); err != nil {
		return err
	}
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		t := now()
		_, err := tx.ExecContext(ctx, `INSERT INTO registered_models (name, description, creation_time, last_updated_time) VALUES (?, ?, ?, ?)`,
			name, description, t, t)
		if err != nil && strings.Contains(err.Error(), "UNIQUE") {
			return fmt.Errorf("%w: registered model (name=%s) already exists", ErrExists, name)
		}
		if err != nil {
			return err
		}
		for _, tag := range tags {
			if _, err := tx.ExecContext(ctx, `INSERT INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)
				ON CONFLICT (name, key) DO UPDATE SET value = excluded.value`, name, tag.Key, tag.Value); err != nil {
				return err
			}
		}
		return nil
	})
}

// RegisteredModel returns what is recorded of a registered model. It
// fails with ErrNotFound when nothing is.
func (s *Store) RegisteredModel(ctx context.Context, name string) (*RegisteredModel, error) {
	m := &RegisteredModel{Name: name}
	err := s.db.QueryRowContext(ctx, `SELECT description, creation_time, last_updated_time FROM registered_models WHERE name = ?`, name).
		Scan(&m.Description, &m.CreationTime, &m.LastUpdatedTime)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: registered model with name=%s not found", ErrNotFound, name)
	}
	if err != nil {
		return nil, fmt.Errorf("tracking: read registered model: %w", err)
	}
	if m.Tags, err = s.keyValues(ctx, `SELECT key, value FROM registered_model_tags WHERE name = ? ORDER BY key`, name); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT alias, version FROM registered_model_aliases WHERE name = ? ORDER BY alias`, name)
	if err != nil {
		return nil, fmt.Errorf("tracking: read aliases: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a Alias
		if err := rows.Scan(&a.Alias, &a.Version); err != nil {
			return nil, fmt.Errorf("tracking: read aliases: %w", err)
		}
		m.Aliases = append(m.Aliases, a)
	}
	return m, rows.Err()
}

// SeeRegisteredModel returns what is recorded of a registered model,
// first recording it, with created (Unix milliseconds) as its creation
// and last update time, when nothing is: a model that came into the
// registry directory without MLflow keeps the creation time it was first
// seen with.
func (s *Store) SeeRegisteredModel(ctx context.Context, name string, created int64) (*RegisteredModel, error) {
	m, err := s.RegisteredModel(ctx, name)
	if !errors.Is(err, ErrNotFound) {
		return m, err
	}
	err = s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO registered_models (name, creation_time, last_updated_time) VALUES (?, ?, ?)
			ON CONFLICT (name) DO NOTHING`, name, created, created)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("tracking: record registered model %s: %w", name, err)
	}
	return s.RegisteredModel(ctx, name)
}

// UpdateRegisteredModel sets a registered model's description, recording
// the model first if need be.
func (s *Store) UpdateRegisteredModel(ctx context.Context, name, description string) error {
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		t := now()
		_, err := tx.ExecContext(ctx, `INSERT INTO registered_models (name, description, creation_time, last_updated_time) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET description = excluded.description, last_updated_time = excluded.last_updated_time`,
			name, description, t, t)
		return err
	})
}

// DeleteRegisteredModel forgets everything recorded of a registered model
// and its versions.
func (s *Store) DeleteRegisteredModel(ctx context.Context, name string) error {
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, table := range []string{"registered_models", "registered_model_tags", "registered_model_aliases", "model_versions", "model_version_tags"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE name = ?`, name); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetAlias points alias at version of a registered model, moving it if it
// pointed elsewhere. The caller checks that the version exists.
func (s *Store) SetAlias(ctx context.Context, name, alias string, version int) error {
	if err := ValidateAlias(alias); err != nil {
		return err
	}
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		t := now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO registered_models (name, creation_time, last_updated_time) VALUES (?, ?, ?)
			ON CONFLICT (name) DO NOTHING`, name, t, t); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO registered_model_aliases (name, alias, version) VALUES (?, ?, ?)
			ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version`, name, alias, version)
		return err
	})
}

// DeleteAlias removes an alias; removing one that does not exist is not
// an error, as in MLflow.
func (s *Store) DeleteAlias(ctx context.Context, name, alias string) error {
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?`, name, alias)
		return err
	})
}

// PutModelVersion records what MLflow keeps of a version: its
// description, source, user and tags.
func (s *Store) PutModelVersion(ctx context.Context, v ModelVersion) error {
	if err := validateTags(v.Tags); err != nil {
		return err
	}
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return putModelVersion(ctx, tx, v)
	})
}

// putModelVersion is PutModelVersion within tx, its tags checked.
func putModelVersion(ctx context.Context, tx *sql.Tx, v ModelVersion) error {
	t := now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO registered_models (name, creation_time, last_updated_time) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET last_updated_time = excluded.last_updated_time`, v.Name, t, t); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO model_versions (name, version, description, source, user_id, creation_time, last_updated_time)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name, version) DO UPDATE SET description = excluded.description,
		source = excluded.source, user_id = excluded.user_id, last_updated_time = excluded.last_updated_time`,
		v.Name, v.Version, v.Description, v.Source, v.UserID, t, t); err != nil {
		return err
	}
	for _, tag := range v.Tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)
			ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value`, v.Name, v.Version, tag.Key, tag.Value); err != nil {
			return err
		}
	}
	return nil
}

// UpdateModelVersion sets a version's description, recording the version
// first if need be.
func (s *Store) UpdateModelVersion(ctx context.Context, name string, version int, description string) error {
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		t := now()
		_, err := tx.ExecContext(ctx, `INSERT INTO model_versions (name, version, description, creation_time, last_updated_time)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (name, version) DO UPDATE SET description = excluded.description,
			last_updated_time = excluded.last_updated_time`, name, version, description, t, t)
		return err
	})
}

// ModelVersion returns what is recorded of a version. It fails with
// ErrNotFound when nothing is.
func (s *Store) ModelVersion(ctx context.Context, name string, version int) (*ModelVersion, error) {
	v := &ModelVersion{Name: name, Version: version}
	err := s.db.QueryRowContext(ctx, `SELECT description, source, user_id, current_stage, creation_time, last_updated_time FROM model_versions
		WHERE name = ? AND version = ?`, name, version).Scan(&v.Description, &v.Source, &v.UserID, &v.CurrentStage, &v.CreationTime, &v.LastUpdatedTime)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: model version (name=%s, version=%d) not recorded", ErrNotFound, name, version)
	}
	if err != nil {
		return nil, fmt.Errorf("tracking: read model version: %w", err)
	}
	v.Tags, err = s.keyValues(ctx, `SELECT key, value FROM model_version_tags WHERE name = ? AND version = ? ORDER BY key`, name, version)
	return v, err
}

// keyValues reads tags from a query of key and value.
func (s *Store) keyValues(ctx context.Context, query string, args ...any) ([]Tag, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("tracking: read tags: %w", err)
	}
	defer rows.Close()
	var out []Tag
	for rows.Next() {
		var t Tag
		if err := rows.Scan(&t.Key, &t.Value); err != nil {
			return nil, fmt.Errorf("tracking: read tags: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

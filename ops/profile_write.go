package ops

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// ProfileSpec says how WriteProfile profiles a version.
type ProfileSpec struct {
	// Data is the reference data; nil means the version's own evaluation
	// set (eval.csv and the manifest's label column).
	Data *ProfileData
	// Replace allows replacing a profile.json the version already has;
	// without it that is ErrProfileExists.
	Replace bool
	// Engine configures the session that runs the model for its scores.
	Engine engine.Config
}

// WriteProfile builds the drift profile of version of model in the
// registry at registry (see BuildProfile) and writes it into the version's
// directory as profile.json, atomically: a temporary file beside it,
// synced, renamed into place, so that a reader sees the whole profile or
// none. It is for versions published without one. The model is checked
// against its manifest's sha256 before it runs. An unknown model or
// version wraps modelstore.ErrNotFound; a version without an evaluation
// set when spec.Data is nil, data that do not fit the model, or a profile
// already there (without spec.Replace) fail with an error saying so, and
// nothing is written. It returns the path written.
//
// A version directory is otherwise immutable once its manifest exists.
// profile.json is not part of what the manifest vouches for (neither its
// sha256 nor its file list name it), the loader never reads it, and a
// reader of it (the drift monitor) reads it whole or not at all, so adding
// one later changes nothing that serves.
func WriteProfile(ctx context.Context, registry, model string, version int, spec ProfileSpec) (string, error) {
	if !modelstore.ValidName(model) || version <= 0 {
		return "", fmt.Errorf("profile %s/%d: %w", model, version, modelstore.ErrNotFound)
	}
	dir := modelstore.VersionDir(registry, model, version)
	m, err := modelstore.ReadManifest(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("profile: model %q has no version %d in %s: %w", model, version, registry, modelstore.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("profile %s/%d: %w", model, version, err)
	}
	path := filepath.Join(dir, drift.ProfileFile)
	if _, err := os.Lstat(path); err == nil && !spec.Replace {
		return "", fmt.Errorf("profile %s/%d: %w", model, version, ErrProfileExists)
	}
	d := spec.Data
	if d == nil {
		if d, err = evalData(dir, m); err != nil {
			return "", fmt.Errorf("profile %s/%d: %w", model, version, err)
		}
	}
	onnx, err := modelstore.ReadModel(filepath.Join(dir, modelstore.ModelFile), 0, "")
	if err != nil {
		return "", fmt.Errorf("profile %s/%d: %w", model, version, err)
	}
	if sum := sha256.Sum256(onnx); hex.EncodeToString(sum[:]) != m.SHA256 {
		return "", fmt.Errorf("profile %s/%d: model.onnx does not match the sha256 of its manifest", model, version)
	}
	cfg := spec.Engine
	cfg.ExternalDataDir = dir
	sess, err := engine.New(onnx, cfg)
	if err != nil {
		return "", fmt.Errorf("profile %s/%d: %w", model, version, err)
	}
	defer sess.Close()
	b, err := BuildProfile(ctx, sess, m.Features, *d)
	if err != nil {
		return "", fmt.Errorf("profile %s/%d: %w", model, version, err)
	}
	if err := writeAtomic(path, b); err != nil {
		return "", fmt.Errorf("profile %s/%d: %w", model, version, err)
	}
	return path, nil
}

// evalData returns the evaluation set of the version in dir (its own,
// else its model's, as the gate finds it) as profile data.
func evalData(dir string, m *modelstore.Manifest) (*ProfileData, error) {
	if m.EvalLabel == "" {
		return nil, errors.New("the version has no evaluation set to profile (its manifest names no label column): give the data")
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		path := filepath.Join(d, modelstore.EvalFile)
		f, err := gate.OpenEvalSet(path, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			return nil, err
		}
		return &ProfileData{CSV: b, Label: m.EvalLabel, Source: "the evaluation set " + path}, nil
	}
	return nil, errors.New("the version has no evaluation set to profile: give the data")
}

// writeAtomic writes b to path through a temporary file in its
// directory, synced and renamed into place, readable by everyone as the
// rest of a version is.
func writeAtomic(path string, b []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if _, err = f.Write(b); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

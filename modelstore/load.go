package modelstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/switchyard-ml/switchyard/engine"
)

// load reads, checks and opens a version. It always returns a Version: a
// Ready one, or a Failed one carrying the reason.
func load(model string, number int, dir string, cfg engine.Config) *Version {
	v := newVersion(model, number, dir)
	sess, err := v.open(cfg)
	v.LoadedAt = time.Now()
	if err != nil {
		v.Err = fmt.Errorf("load %s/%d: %w", model, number, err)
		v.state.Store(int32(Failed))
		return v
	}
	v.session = sess
	v.Signature = sess.Signature()
	v.WarmUp = sess.WarmUp()
	v.state.Store(int32(Ready))
	return v
}

func (v *Version) open(cfg engine.Config) (*engine.Session, error) {
	raw, err := os.ReadFile(filepath.Join(v.Dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(raw)
	if err != nil {
		return nil, err
	}
	v.Manifest = m
	if m.Model != "" && m.Model != v.Model {
		return nil, fmt.Errorf("%w: manifest names model %q", ErrManifest, m.Model)
	}
	if m.Version != 0 && m.Version != v.Number {
		return nil, fmt.Errorf("%w: manifest names version %d", ErrManifest, m.Version)
	}
	model, err := os.ReadFile(filepath.Join(v.Dir, ModelFile))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(model)
	want, _ := hex.DecodeString(m.SHA256) // validated by ParseManifest
	if !bytes.Equal(sum[:], want) {
		return nil, fmt.Errorf("%w: %s has sha256 %x, manifest records %s", ErrChecksum, ModelFile, sum, m.SHA256)
	}
	sess, err := engine.New(model, cfg)
	if err != nil {
		return nil, err
	}
	if m.Signature != nil {
		if err := checkSignature(m.Signature, sess.Signature()); err != nil {
			sess.Close()
			return nil, err
		}
	}
	return sess, nil
}

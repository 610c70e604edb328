package modelstore

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/switchyard-ml/switchyard/engine"
)

// PublishOptions describes a version being published.
type PublishOptions struct {
	// Description is the model card's free text.
	Description string
	// CreatedBy names the publisher.
	CreatedBy string
	// Features, Classes and UnknownFields are the optional records schema
	// (see Schema). When any is set, the schema is checked against the
	// model's signature and the publish fails with ErrSchema if it does
	// not fit.
	Features      []Feature
	Classes       []string
	UnknownFields string
	// Lineage records the training run, if known.
	Lineage *Lineage
	// EvalCSV, when not nil, is written into the version as eval.csv, the
	// labelled evaluation set; EvalLabel names its label column and is
	// recorded in the manifest. Publish does not parse it: the caller
	// checks it first.
	EvalCSV   []byte
	EvalLabel string
	// Engine configures the session used to check that the model loads.
	Engine engine.Config
}

// maxPublishAttempts bounds the retries when concurrent publishers race
// for the same version number.
const maxPublishAttempts = 20

// Publish adds model (the bytes of an ONNX file) to the registry at dir as
// the next version of the named model and returns its number.
//
// The model is opened with onnxruntime first, so a file that does not load
// is refused, and its signature is recorded in the manifest; a records
// schema in opts must fit that signature (Schema.Check). The version
// (model.onnx, eval.csv when opts has one, then the manifest) is
// written into a temporary directory beside the versions, manifest last,
// synced, and renamed into place: a reader sees all of it or none of it.
// Concurrent publishers get distinct numbers. Init must have been called.
func Publish(dir, name string, model []byte, opts PublishOptions) (int, error) {
	if !ValidName(name) {
		return 0, fmt.Errorf("%w: %q (use 1-64 of A-Z a-z 0-9 _ . -, starting with a letter or digit)", ErrName, name)
	}
	if (opts.EvalCSV == nil) != (opts.EvalLabel == "") {
		return 0, fmt.Errorf("publish %s: an evaluation set needs its label column, and a label column its evaluation set", name)
	}
	sess, err := engine.New(model, opts.Engine)
	if err != nil {
		return 0, fmt.Errorf("publish %s: %w", name, err)
	}
	sig := manifestSignature(sess.Signature())
	if len(opts.Features) > 0 || len(opts.Classes) > 0 || opts.UnknownFields != "" {
		s := Schema{Features: opts.Features, Classes: opts.Classes, UnknownFields: opts.UnknownFields}
		if _, err := s.Check(sess.Signature()); err != nil {
			sess.Close()
			return 0, fmt.Errorf("publish %s: %w", name, err)
		}
	}
	sess.Close()

	modelDir := filepath.Join(dir, name)
	if err := os.MkdirAll(modelDir, versionDirMode); err != nil {
		return 0, fmt.Errorf("publish %s: %w", name, err)
	}
	tmp, err := os.MkdirTemp(modelDir, ".publish-")
	if err != nil {
		return 0, fmt.Errorf("publish %s: %w", name, err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	// MkdirTemp makes the directory 0700; a server running as another user
	// (a container, a pod) must be able to read the version.
	if err := os.Chmod(tmp, versionDirMode); err != nil {
		return 0, fmt.Errorf("publish %s: %w", name, err)
	}

	sum := sha256.Sum256(model)
	m := Manifest{
		Model:         name,
		SHA256:        hex.EncodeToString(sum[:]),
		CreatedAt:     time.Now().UTC().Truncate(time.Millisecond),
		CreatedBy:     opts.CreatedBy,
		Description:   opts.Description,
		Signature:     sig,
		Features:      opts.Features,
		Classes:       opts.Classes,
		UnknownFields: opts.UnknownFields,
		Lineage:       opts.Lineage,
		EvalLabel:     opts.EvalLabel,
	}
	if err := writeFileSync(filepath.Join(tmp, ModelFile), model); err != nil {
		return 0, fmt.Errorf("publish %s: %w", name, err)
	}
	if opts.EvalCSV != nil {
		if err := writeFileSync(filepath.Join(tmp, EvalFile), opts.EvalCSV); err != nil {
			return 0, fmt.Errorf("publish %s: %w", name, err)
		}
	}
	for range maxPublishAttempts {
		_, all, err := listVersions(modelDir)
		if err != nil {
			return 0, fmt.Errorf("publish %s: %w", name, err)
		}
		m.Version = 1
		if len(all) > 0 {
			m.Version = all[len(all)-1] + 1
		}
		data, err := json.MarshalIndent(&m, "", "  ")
		if err != nil {
			return 0, fmt.Errorf("publish %s: %w", name, err)
		}
		if err := writeFileSync(filepath.Join(tmp, ManifestFile), append(data, '\n')); err != nil {
			return 0, fmt.Errorf("publish %s: %w", name, err)
		}
		if err := syncDir(tmp); err != nil {
			return 0, fmt.Errorf("publish %s: %w", name, err)
		}
		err = os.Rename(tmp, filepath.Join(modelDir, strconv.Itoa(m.Version)))
		if err == nil {
			return m.Version, syncDir(modelDir)
		}
		if !errors.Is(err, fs.ErrExist) && !errors.Is(err, errNotEmpty) {
			return 0, fmt.Errorf("publish %s: %w", name, err)
		}
		// Another publisher took this number: try the next one.
	}
	return 0, fmt.Errorf("publish %s: gave up after %d attempts to claim a version number", name, maxPublishAttempts)
}

// Modes of what Publish writes, whatever the umask: readable by everyone,
// so that a server running as another user can load the version.
const (
	versionDirMode  = 0o755
	versionFileMode = 0o644
)

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, versionFileMode)
	if err != nil {
		return err
	}
	if err := f.Chmod(versionFileMode); err != nil { // the umask may have cleared bits
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

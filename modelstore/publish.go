package modelstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/switchyard-ml/switchyard/engine"
)

// PublishOptions describes a version being published.
type PublishOptions struct {
	// Description is the publisher's note for the model card.
	Description string
	// Card, when not nil, is the version's card text, markdown its
	// publisher wrote (intended use, limitations), written into the
	// version as card.md and recorded in the manifest. It must pass
	// CheckCard: UTF-8 text of at most MaxCardBytes.
	Card []byte
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
	// Profile, when not nil, is written into the version as profile.json,
	// its reference profile for drift. Publish does not parse it: the
	// caller builds it (see ops.BuildProfile).
	Profile []byte
	// Files, when not empty, are extra files written into the version
	// beside model.onnx, by file name (see CheckFileName): the external
	// data of the model's initializers, the files of an MLflow model
	// directory. Each is recorded in the manifest with its sha256 and
	// size and checked at every load; the model is loaded with them, so
	// that external data resolves. Publish keeps the slices without
	// copying them; the caller bounds their size.
	Files map[string][]byte
	// Engine configures the session used to check that the model loads.
	Engine engine.Config
}

// maxPublishAttempts bounds the retries when concurrent publishers race
// for the same version number.
const maxPublishAttempts = 20

// Publish adds model (the bytes of an ONNX file) to the registry at dir as
// the next version of the named model and returns its number: Stage, then
// Commit with nothing to record.
//
// The model is opened with onnxruntime first, so a file that does not load
// is refused, and its signature is recorded in the manifest; a records
// schema in opts must fit that signature (Schema.Check), a card text must
// pass CheckCard. The version (model.onnx, eval.csv, card.md and
// profile.json when opts has them, its extra files, then the manifest) is
// written into a temporary directory beside the versions, manifest last,
// synced, and renamed into place: a reader sees all of it or none of it.
// Concurrent publishers get distinct numbers. Init must have been called.
func Publish(dir, name string, model []byte, opts PublishOptions) (int, error) {
	s, err := Stage(dir, name, model, opts)
	if err != nil {
		return 0, err
	}
	defer s.Discard()
	return s.Commit(context.Background(), nil)
}

// Staged is a version written into a hidden temporary directory beside
// the model's versions, out of a watcher's sight, until Commit renames it
// into place. Its methods must not be called concurrently.
type Staged struct {
	name, modelDir, tmp string
	manifest            Manifest
}

// Stage checks model as Publish does and writes it, with the evaluation
// set of opts, into a temporary directory beside the model's versions. The
// caller must Commit or Discard it. A failure to write wraps
// ErrRegistryWrite; any other error means the model or the options were
// refused.
func Stage(dir, name string, model []byte, opts PublishOptions) (*Staged, error) {
	if !ValidName(name) {
		return nil, fmt.Errorf("%w: %q (use 1-64 of A-Z a-z 0-9 _ . -, starting with a letter or digit)", ErrName, name)
	}
	if (opts.EvalCSV == nil) != (opts.EvalLabel == "") {
		return nil, fmt.Errorf("publish %s: an evaluation set needs its label column, and a label column its evaluation set", name)
	}
	files, err := sumFiles(opts.Files)
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", name, err)
	}
	card, err := cardSum(opts.Card)
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", name, err)
	}
	var sig *ManifestSignature
	if len(files) == 0 {
		// A model on its own is checked before anything is written.
		if sig, err = checkModel(name, model, opts, ""); err != nil {
			return nil, err
		}
	}

	s := &Staged{name: name, modelDir: filepath.Join(dir, name)}
	if err := os.MkdirAll(s.modelDir, versionDirMode); err != nil {
		return nil, fmt.Errorf("publish %s: %w: %w", name, ErrRegistryWrite, err)
	}
	if s.tmp, err = os.MkdirTemp(s.modelDir, ".publish-"); err != nil {
		return nil, fmt.Errorf("publish %s: %w: %w", name, ErrRegistryWrite, err)
	}
	// MkdirTemp makes the directory 0700; a server running as another user
	// (a container, a pod) must be able to read the version.
	if err := os.Chmod(s.tmp, versionDirMode); err != nil {
		return nil, errors.Join(fmt.Errorf("publish %s: %w: %w", name, ErrRegistryWrite, err), s.Discard())
	}
	sum := sha256.Sum256(model)
	s.manifest = Manifest{
		Model:         name,
		SHA256:        hex.EncodeToString(sum[:]),
		CreatedAt:     time.Now().UTC().Truncate(time.Millisecond),
		CreatedBy:     opts.CreatedBy,
		Description:   opts.Description,
		Card:          card,
		Features:      opts.Features,
		Classes:       opts.Classes,
		UnknownFields: opts.UnknownFields,
		Lineage:       opts.Lineage,
		EvalLabel:     opts.EvalLabel,
		Files:         files,
	}
	err = writeFileSync(filepath.Join(s.tmp, ModelFile), model)
	if err == nil && opts.EvalCSV != nil {
		err = writeFileSync(filepath.Join(s.tmp, EvalFile), opts.EvalCSV)
	}
	if err == nil && opts.Card != nil {
		err = writeFileSync(filepath.Join(s.tmp, CardFile), opts.Card)
	}
	if err == nil && opts.Profile != nil {
		err = writeFileSync(filepath.Join(s.tmp, ProfileFile), opts.Profile)
	}
	for _, n := range slices.Sorted(maps.Keys(opts.Files)) {
		if err == nil {
			err = writeFileSync(filepath.Join(s.tmp, n), opts.Files[n])
		}
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("publish %s: %w: %w", name, ErrRegistryWrite, err), s.Discard())
	}
	if sig == nil {
		// The model's external data is among its files: load it from
		// the staged directory, where onnxruntime finds them.
		if sig, err = checkModel(name, model, opts, s.tmp); err != nil {
			return nil, errors.Join(err, s.Discard())
		}
	}
	s.manifest.Signature = sig
	return s, nil
}

// checkModel opens model as Stage does, reading external data from
// dataDir when it is not empty, checks opts' records schema against it
// and returns its signature in the manifest's form.
func checkModel(name string, model []byte, opts PublishOptions, dataDir string) (*ManifestSignature, error) {
	cfg := opts.Engine
	cfg.ExternalDataDir = dataDir
	sess, err := engine.New(model, cfg)
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", name, err)
	}
	defer sess.Close()
	if len(opts.Features) > 0 || len(opts.Classes) > 0 || opts.UnknownFields != "" {
		s := Schema{Features: opts.Features, Classes: opts.Classes, UnknownFields: opts.UnknownFields}
		if _, err := s.Check(sess.Signature()); err != nil {
			return nil, fmt.Errorf("publish %s: %w", name, err)
		}
	}
	return manifestSignature(sess.Signature()), nil
}

// Recorder is what Commit asks its caller to do around the rename that
// makes a version visible: Record keeps what is known of version before it
// appears (a failure stops the publish with nothing visible), and Undo
// forgets it again when the rename then fails, so that nothing records a
// version that does not exist.
type Recorder interface {
	Record(ctx context.Context, version int) error
	Undo(ctx context.Context, version int) error
}

// Commit claims the next version number, writes the manifest, calls
// rec.Record (rec may be nil) and renames the staged directory into place,
// which makes the version visible, whole. A failed rename calls rec.Undo,
// with ctx freed of its cancellation so that no record outlives a version
// that never appeared; when a concurrent publisher took the number first,
// the next one is tried, else the rename's error is returned joined with
// Undo's. Once the version is visible Commit returns its number, with an
// error only if the registry directory could not be synced.
func (s *Staged) Commit(ctx context.Context, rec Recorder) (int, error) {
	for range maxPublishAttempts {
		_, all, err := listVersions(s.modelDir)
		if err != nil {
			return 0, fmt.Errorf("publish %s: %w", s.name, err)
		}
		m := &s.manifest
		m.Version = 1
		if len(all) > 0 {
			m.Version = all[len(all)-1] + 1
		}
		data, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return 0, fmt.Errorf("publish %s: %w", s.name, err)
		}
		if err := writeFileSync(filepath.Join(s.tmp, ManifestFile), append(data, '\n')); err != nil {
			return 0, fmt.Errorf("publish %s: %w: %w", s.name, ErrRegistryWrite, err)
		}
		if err := syncDir(s.tmp); err != nil {
			return 0, fmt.Errorf("publish %s: %w: %w", s.name, ErrRegistryWrite, err)
		}
		if rec != nil {
			if err := rec.Record(ctx, m.Version); err != nil {
				return 0, fmt.Errorf("publish %s: record version %d: %w", s.name, m.Version, err)
			}
		}
		err = os.Rename(s.tmp, filepath.Join(s.modelDir, strconv.Itoa(m.Version)))
		if err == nil {
			s.tmp = ""
			if err := syncDir(s.modelDir); err != nil {
				return m.Version, fmt.Errorf("publish %s: version %d is in place, but: %w", s.name, m.Version, err)
			}
			return m.Version, nil
		}
		err = fmt.Errorf("publish %s: %w: %w", s.name, ErrRegistryWrite, err)
		if rec != nil {
			if uerr := rec.Undo(context.WithoutCancel(ctx), m.Version); uerr != nil {
				return 0, errors.Join(err, fmt.Errorf("undo the record of version %d: %w", m.Version, uerr))
			}
		}
		if !errors.Is(err, fs.ErrExist) && !errors.Is(err, errNotEmpty) {
			return 0, err
		}
		// Another publisher took this number: try the next one.
	}
	return 0, fmt.Errorf("publish %s: gave up after %d attempts to claim a version number", s.name, maxPublishAttempts)
}

// Discard removes the staged directory; after Commit it does nothing.
func (s *Staged) Discard() error {
	if s.tmp == "" {
		return nil
	}
	err := os.RemoveAll(s.tmp)
	s.tmp = ""
	return err
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

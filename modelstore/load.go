package modelstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"github.com/switchyard-ml/switchyard/batcher"
	"github.com/switchyard-ml/switchyard/engine"
)

// loadConfig is what loading a version needs besides its location.
type loadConfig struct {
	engine engine.Config
	// maxModelBytes is Config.MaxModelBytes: the size limit of
	// model.onnx, 0 meaning DefaultMaxModelBytes.
	maxModelBytes int64
	batching      Batching
	metrics       *batcher.Metrics
	log           *slog.Logger
}

// load reads, checks and opens v and starts its batch queue, measuring
// what it costs in resident memory. It runs on a loader goroutine while v
// is Loading, so nothing else reads v's fields yet; the error, if any,
// carries the version.
func (v *Version) load(cfg loadConfig) error {
	start, before := time.Now(), residentBytes()
	err := v.start(cfg)
	v.LoadedAt = time.Now()
	v.loadTook = v.LoadedAt.Sub(start)
	if err != nil {
		return fmt.Errorf("load %s/%d: %w", v.Model, v.Number, err)
	}
	v.Cost = max(residentBytes()-before, v.Cost)
	return nil
}

// start opens the session and the batch queue.
func (v *Version) start(cfg loadConfig) error {
	sess, err := v.open(cfg.engine, cfg.maxModelBytes)
	if err != nil {
		return err
	}
	v.Signature = sess.Signature()
	v.score = scoreRuleOf(v.Signature)
	v.WarmUp = sess.WarmUp()
	v.batchable = batchable(v.Signature)
	v.Batching = cfg.batching
	if !v.batchable {
		v.Batching.MaxBatchSize = 1
	}
	qcfg := v.Batching.Config
	qcfg.Logger = cfg.log
	qcfg, err = qcfg.WithDefaults()
	if err != nil {
		sess.Close()
		return err
	}
	// No batch may need a tensor past the engine's MaxTensorBytes.
	if n := sess.MaxBatchRows(); qcfg.MaxBatchSize > n {
		qcfg.MaxBatchSize = n
		qcfg.PreferredBatchSizes = slices.DeleteFunc(qcfg.PreferredBatchSizes, func(p int) bool { return p > n })
	}
	r := newRunner(sess, qcfg.Executors)
	q, err := batcher.New(qcfg, r, cfg.metrics, v.Model, v.Label)
	if err != nil {
		sess.Close()
		return err
	}
	v.Batching.Config = qcfg
	v.session, v.queue, v.runner = sess, q, r
	return nil
}

// open reads and checks v's manifest and model, holding model.onnx to
// maxModel bytes, and opens its session.
func (v *Version) open(cfg engine.Config, maxModel int64) (*engine.Session, error) {
	raw, err := readManifestFile(v.Dir)
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
	model, err := ReadModel(filepath.Join(v.Dir, ModelFile), maxModel, "serve --max-model-bytes")
	if err != nil {
		return nil, err
	}
	v.Cost = int64(len(model))
	sum := sha256.Sum256(model)
	want, _ := hex.DecodeString(m.SHA256) // validated by ParseManifest
	if !bytes.Equal(sum[:], want) {
		return nil, fmt.Errorf("%w: %s has sha256 %x, manifest records %s", ErrChecksum, ModelFile, sum, m.SHA256)
	}
	if len(m.Files) > 0 {
		// The extra files count against the model's size limit, and
		// onnxruntime may read external data only once they check out.
		if maxModel == 0 {
			maxModel = DefaultMaxModelBytes
		}
		n, err := verifyFiles(v.Dir, m.Files, maxModel-int64(len(model)), "serve --max-model-bytes")
		if err != nil {
			return nil, err
		}
		v.Cost += n
		cfg.ExternalDataDir = v.Dir
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
	if s := m.SchemaOf(); s != nil {
		if v.Features, err = s.Check(sess.Signature()); err != nil {
			sess.Close()
			return nil, err
		}
	}
	return sess, nil
}

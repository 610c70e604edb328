package ops

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/tracking"
)

// PublishSpec describes a version to publish and what to record of it.
type PublishSpec struct {
	// Options is what goes into the version: its model card, creator,
	// records schema, evaluation set, extra files (the external data and
	// the rest of an MLflow model directory) and lineage. A lineage with a run id
	// links the version to that run in the tracking store.
	Options modelstore.PublishOptions
	// EndRun marks the linked run FINISHED with the publish: the publish
	// created it.
	EndRun bool
	// Meta, when not nil, is what MLflow keeps of the version (its
	// description, source, user and tags).
	Meta *tracking.ModelVersion
	// Actor, Reason and Details make the publish's audit entry.
	Actor, Reason string
	Details       map[string]any
}

// Publish adds onnx as the next version of model and returns its number,
// as one operation that leaves nothing half-done:
//
//  1. the version is checked and staged in a hidden directory beside the
//     model's versions (modelstore.Stage); a model the registry refuses
//     fails with an error wrapping ErrRejected, a registry that cannot be
//     written (a full disk, a read-only filesystem) with one wrapping
//     modelstore.ErrRegistryWrite instead, which a retry may cure;
//  2. once its number is claimed, its lineage, MLflow record, the run's
//     end and the audit entry are written in one tracking transaction;
//  3. the staged directory is renamed into place, which makes the version
//     visible; if that fails, the records of step 2 are undone.
//
// A binary classifier published with an evaluation set gets the
// calibration of its scores on that set as its calibration.json, for the
// live quality monitor's estimate before labels (see Calibrate).
//
// A failure at any step leaves neither a version without its records nor
// records without a version (unless the undo itself fails, which the
// error then says), and the staged directory is removed; calling Publish
// again is safe. Publish returns the number with an error only when the
// version is in place, recorded, but the registry could not be synced.
func (s *Service) Publish(ctx context.Context, model string, onnx []byte, spec PublishSpec) (int, error) {
	opts, err := s.withCalibration(ctx, model, onnx, spec.Options)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrRejected, err)
	}
	staged, err := modelstore.Stage(s.cfg.Registry, model, onnx, opts)
	if errors.Is(err, modelstore.ErrRegistryWrite) {
		return 0, err // the registry failed, not the model: worth a retry
	}
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrRejected, err)
	}
	var rec modelstore.Recorder
	if s.cfg.Tracking != nil {
		p := tracking.Publication{Model: model, EndRun: spec.EndRun, Meta: spec.Meta,
			Entry: tracking.Entry{Actor: spec.Actor, Reason: spec.Reason, Details: withToken(ctx, maps.Clone(spec.Details))}}
		if spec.Options.Lineage != nil {
			p.RunID = spec.Options.Lineage.RunID
		}
		rec = &recorder{t: s.cfg.Tracking, p: p}
	}
	v, err := staged.Commit(ctx, rec)
	if derr := staged.Discard(); derr != nil {
		s.log.Warn("staged version not removed", "model", model, "error", derr)
	}
	return v, err
}

// recorder records a publish in the tracking store around the rename that
// makes the version visible. It serves one Publish call.
type recorder struct {
	t Tracking
	p tracking.Publication
	r *tracking.Recorded
}

// Record writes the publication of version in one transaction.
func (r *recorder) Record(ctx context.Context, version int) error {
	r.p.Version = version
	rec, err := r.t.RecordPublish(ctx, r.p)
	r.r = rec
	return err
}

// Undo forgets what Record wrote.
func (r *recorder) Undo(ctx context.Context, _ int) error {
	if r.r == nil {
		return errors.New("ops: BUG: undo a publish that was not recorded")
	}
	err := r.t.UndoPublish(ctx, r.r)
	r.r = nil
	return err
}

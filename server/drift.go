package server

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// The hand-off to the drift monitor (Config.Drift): after a successful
// inference, V2 or records, the request offers the monitor the version,
// the prediction id, the rows of the model's input and the score of each
// row. The monitor chooses by the id whether to keep it (drift.sample),
// and copies it into a pooled buffer; a full buffer drops and counts.
// Nothing here waits on the monitor or allocates once the pool is warm.
// With the prediction log on as well, a prediction the log took is left
// to the log's writer, which offers the monitor what it wrote
// (offerLoggedDrift): the hot path copies it once, into the log.

// offerDrift offers the monitor an answered request of version v: the
// prediction id id, its inputs in and its outputs out, unless the
// prediction log took it (logged). Only a model with a single FP32 input
// of shape [rows, columns] is monitored; the others' drift reports say
// why (driftSource.Describe).
func (s *Server) offerDrift(v *modelstore.Version, id []byte, in, out []engine.Tensor, logged bool) {
	m := s.cfg.Drift
	if m == nil {
		return
	}
	width := driftWidth(in)
	if width == 0 { // let the report say why this version is not monitored
		m.Offer(m.Take((*driftSource)(v), id))
		return
	}
	if logged {
		return
	}
	smp := m.Take((*driftSource)(v), id)
	if smp == nil {
		return
	}
	smp.SetRowsFP32(in[0].Data, width)
	v.EachScore(out, func(x float64) bool { smp.AddScore(x); return true })
	m.Offer(smp)
}

// driftWidth returns the columns of a request's rows as the drift
// monitor reads them: those of a single FP32 input of shape [rows,
// columns], else 0.
func driftWidth(in []engine.Tensor) int {
	if len(in) != 1 || in[0].DType != engine.FP32 || len(in[0].Shape) != 2 || in[0].Shape[1] < 1 {
		return 0
	}
	return int(in[0].Shape[1])
}

// driftSource is a modelstore.Version as the drift monitor sees it. A
// *modelstore.Version converts to it without allocating, and each load of
// a version is a distinct pointer, hence a distinct source.
type driftSource modelstore.Version

// Describe names the columns of the version's input rows: the records
// schema's features at their positions (a category as the index of its
// value or a one-hot block, a bool as 0 or 1), else input[0]..input[k-1].
func (d *driftSource) Describe() drift.Description {
	v := (*modelstore.Version)(d)
	desc := drift.Description{Model: v.Model, Version: v.Number, Dir: v.Dir}
	sig := v.Signature
	if sig == nil || len(sig.Inputs) != 1 || sig.Inputs[0].DType != engine.FP32 || len(sig.Inputs[0].Shape) != 2 || sig.Inputs[0].Shape[1] < 1 {
		desc.Problem = "the drift monitor reads models with a single FP32 input of shape [rows, columns]; this one has another signature"
		return desc
	}
	width := int(sig.Inputs[0].Shape[1])
	desc.Columns = make([]drift.ColumnSpec, width)
	for i := range desc.Columns {
		desc.Columns[i] = drift.ColumnSpec{Name: fmt.Sprintf("input[%d]", i), Kind: drift.Numeric}
	}
	if v.Features == nil || v.Manifest == nil {
		return desc
	}
	for i, f := range v.Manifest.Features {
		slot := v.Features.Features[i]
		if slot.Column+slot.Width > width {
			desc.Problem = fmt.Sprintf("feature %q lies beyond the model's %d input columns", f.Name, width)
			return desc
		}
		spec := drift.ColumnSpec{Name: f.Name, Kind: drift.Numeric}
		switch f.Type {
		case modelstore.TypeCategory:
			spec.Kind, spec.Values = drift.Categorical, f.Values
		case modelstore.TypeBool:
			spec.Kind, spec.Values = drift.Categorical, []string{"false", "true"}
		}
		if slot.Width > 1 { // one-hot: the block's first column names it
			spec.Width = slot.Width
			for k := 1; k < slot.Width; k++ {
				desc.Columns[slot.Column+k] = drift.ColumnSpec{}
			}
		}
		desc.Columns[slot.Column] = spec
	}
	return desc
}

// Policy reads the drift block of the model's policy.yaml over the
// defaults; a model without the file has the defaults.
func (d *driftSource) Policy() (drift.Policy, error) {
	v := (*modelstore.Version)(d)
	p, err := modelstore.ReadPolicy(filepath.Join(filepath.Dir(v.Dir), modelstore.PolicyFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return drift.DefaultPolicy(), nil
	case err != nil:
		return drift.DefaultPolicy(), err
	}
	return p.Drift.Apply(drift.DefaultPolicy()), nil
}

// Serving reports whether the version is still in service.
func (d *driftSource) Serving() bool {
	st := (*modelstore.Version)(d).State()
	return st == modelstore.Ready || st == modelstore.Draining
}

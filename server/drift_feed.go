package server

import (
	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/tracking"
)

// The drift monitor's feeds off the hot path: the prediction log's
// writer, which hands over each batch it wrote (a request the log took
// leaves its drift sample to the writer, so that each prediction is
// copied once on the hot path, into the log), and a fleet's stream,
// which delivers the predictions other replicas answered. Both gather a
// batch's rows into as few pooled samples as hold them: a batch holds
// thousands of predictions, more than the monitor's queue.

// offerLoggedDrift is the prediction log's follower (tracking's Follow)
// when the drift monitor is on: it offers the monitor the predictions of
// a batch the log wrote of model, each sampled by its id as offerDrift
// samples a request. Called from the log's writer only.
func (s *Server) offerLoggedDrift(model string, batch []tracking.PredictionView) {
	g := driftGatherer{m: s.cfg.Drift, models: s.models}
	for i := range batch {
		p := &batch[i]
		g.add(model, p.Version, p.ID, p.Inputs, p.Scores)
	}
	g.offer()
}

// OfferFleetDrift offers the drift monitor (Config.Drift) the
// predictions that other replicas of a fleet answered, as the fleet's
// stream delivers them (each with its id, inputs and scores), so that
// drift is judged over the fleet's traffic. A prediction is offered to
// the same version loaded here, and sampled by its id, as offerDrift
// offers a request; one of a version not loaded here, of another
// signature than a single FP32 input of shape [rows, columns], or whose
// inputs the log did not keep, is passed over. It never blocks and
// keeps nothing of ps. Safe for concurrent use.
func (s *Server) OfferFleetDrift(ps []tracking.Prediction) {
	g := driftGatherer{m: s.cfg.Drift, models: s.models}
	for i := range ps {
		p := &ps[i]
		g.add(p.Model, p.Version, []byte(p.ID), p.Inputs, p.Scores)
	}
	g.offer()
}

// driftGatherer gathers the rows of a batch of predictions into pooled
// samples, one open sample per version, each offered once full and the
// rest by offer. Its zero value with m nil gathers nothing.
type driftGatherer struct {
	m      *drift.Monitor
	models Models
	model  *modelstore.Model // the model of the last prediction added
	open   []gathering
}

// gathering is the sample being filled for one version.
type gathering struct {
	number int
	v      *modelstore.Version // nil: a version the monitor cannot read here
	width  int
	smp    *drift.Sample
}

// add gathers the rows of a prediction of model's version, by its id,
// with its inputs (rows of FP32 values) and its scores, one per row.
func (g *driftGatherer) add(model string, version int, id, inputs []byte, scores []float64) {
	if g.m == nil {
		return
	}
	o := g.version(model, version)
	if o == nil || o.v == nil {
		return
	}
	src := (*driftSource)(o.v)
	rowBytes := 4 * o.width
	rows := min(len(inputs)/rowBytes, drift.MaxSampleRows)
	if rows == 0 || len(inputs)%rowBytes != 0 || !g.m.Sampled(src, id) {
		return
	}
	scored := len(scores) >= rows
	for done := 0; done < rows; {
		if o.smp == nil {
			if o.smp = g.m.Gather(src); o.smp == nil {
				return // every buffer in use: dropped and counted
			}
		}
		n := o.smp.AddRowsFP32(inputs[done*rowBytes:rows*rowBytes], o.width)
		if scored {
			for _, x := range scores[done : done+n] {
				o.smp.AddScore(x)
			}
		}
		if done += n; done < rows { // the sample is full
			g.m.Offer(o.smp)
			o.smp = nil
		}
	}
}

// version returns the gathering of model's version, opened on its first
// prediction; nil when the model is not loaded here.
func (g *driftGatherer) version(model string, number int) *gathering {
	if g.model == nil || g.model.Name != model {
		g.offer()
		if g.model = g.models.Model(model); g.model == nil {
			return nil
		}
	}
	for i := range g.open {
		if g.open[i].number == number {
			return &g.open[i]
		}
	}
	o := gathering{number: number}
	if v := g.model.Version(number); v != nil && v.Signature != nil && len(v.Signature.Inputs) == 1 {
		if in := v.Signature.Inputs[0]; in.DType == engine.FP32 && len(in.Shape) == 2 && in.Shape[1] >= 1 {
			o.v, o.width = v, int(in.Shape[1])
		}
	}
	g.open = append(g.open, o)
	return &g.open[len(g.open)-1]
}

// offer offers the monitor the samples being filled.
func (g *driftGatherer) offer() {
	for i := range g.open {
		g.m.Offer(g.open[i].smp)
	}
	g.open = g.open[:0]
}

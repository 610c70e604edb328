package server

import (
	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/tracking"
)

// OfferFleetDrift offers the drift monitor (Config.Drift) the
// predictions that other replicas of a fleet answered, as the fleet's
// stream delivers them (each with its id, inputs and scores), so that
// drift is judged over the fleet's traffic. A prediction is offered as
// offerDrift offers a request, to the same version loaded here, and
// sampled by its id alike; one of a version not loaded here, of another
// signature than a single FP32 input of shape [rows, columns], or whose
// inputs the log did not keep, is passed over. It never blocks and
// keeps nothing of ps. Safe for concurrent use.
func (s *Server) OfferFleetDrift(ps []tracking.Prediction) {
	m := s.cfg.Drift
	if m == nil {
		return
	}
	var model *modelstore.Model
	for i := range ps {
		p := &ps[i]
		if model == nil || model.Name != p.Model {
			if model = s.models.Model(p.Model); model == nil {
				continue
			}
		}
		v := model.Version(p.Version)
		if v == nil || v.Signature == nil || len(v.Signature.Inputs) != 1 {
			continue
		}
		in := v.Signature.Inputs[0]
		if in.DType != engine.FP32 || len(in.Shape) != 2 || in.Shape[1] < 1 {
			continue
		}
		width := int(in.Shape[1])
		if len(p.Inputs) == 0 || len(p.Inputs)%(4*width) != 0 {
			continue
		}
		smp := m.Take((*driftSource)(v), []byte(p.ID))
		if smp == nil {
			continue
		}
		smp.SetRowsFP32(p.Inputs, width)
		for _, x := range p.Scores {
			smp.AddScore(x)
		}
		m.Offer(smp)
	}
}

package server

import (
	"time"

	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/tracking"
)

// The hand-off to the prediction log (Config.PredictionLog): after a
// successful inference, V2 or records, the request offers the log each
// prediction it answered, by id, with its inputs and scores. The log
// chooses by the id whether to keep it (log.sample) and lends a pooled
// record to copy it into; with none free the prediction is dropped and
// counted. Nothing here waits on the log's writer or allocates once the
// pool is warm.

// offerLog offers the log a V2 request of version v, which arrived at
// at, answered as prediction id: its input tensors' bytes, one after
// another, and the score of each of its rows. It reports whether the log
// took it.
func (s *Server) offerLog(v *modelstore.Version, id []byte, at time.Time, in, out []engine.Tensor) bool {
	r := s.cfg.PredictionLog.Take(v.Model, id)
	if r == nil {
		return false
	}
	r.Set(v.Number, "", at)
	for i := range in {
		r.AppendInputs(in[i].Data)
	}
	v.EachScore(out, func(x float64) bool { r.AddScore(x); return true })
	s.cfg.PredictionLog.Offer(r)
	return true
}

// offerRecords offers the sidecars a records request of version v,
// answered as the predictions first..first+rows-1: the log each row, with
// its bytes of each input tensor and its score, and the drift monitor
// the rows the log did not take (offerDrift says why), in one sample
// chosen by the first such row's id. With the log off, that is the whole
// request, by its first id.
func (s *Server) offerRecords(v *modelstore.Version, first uint64, rows int, in, out []engine.Tensor) {
	l := s.cfg.PredictionLog
	if rows <= 0 {
		return
	}
	var pid [predictionIDLen]byte
	s.offerDrift(v, s.ids.appendID(pid[:0], first), in, out, l != nil)
	if l == nil {
		return
	}
	rec := recordsOffer{s: s, l: l, v: v, first: first, rows: rows, at: time.Now(), in: in, width: driftWidth(in)}
	if s.cfg.Drift == nil || rec.width == 0 {
		rec.declined = true
	}
	row := 0
	v.EachScore(out, func(x float64) bool {
		if row < rows {
			rec.row(row, x, true)
		}
		row++
		return row < rows
	})
	for ; row < rows; row++ { // a model without a score rule: rows alone
		rec.row(row, 0, false)
	}
	s.cfg.Drift.Offer(rec.drift)
}

// recordsOffer is offerRecords' state over a request's rows.
type recordsOffer struct {
	s     *Server
	l     *tracking.PredictionLog
	v     *modelstore.Version
	first uint64
	rows  int
	at    time.Time
	in    []engine.Tensor
	width int // the rows' columns as the drift monitor reads them
	// drift is the sample of the rows the log did not take; declined,
	// that the monitor takes none of them.
	drift    *drift.Sample
	declined bool
}

// row offers the log row of the request, with its score x when scored,
// and the drift monitor the row if the log did not take it.
func (o *recordsOffer) row(row int, x float64, scored bool) {
	var pid [predictionIDLen]byte
	id := o.s.ids.appendID(pid[:0], o.first+uint64(row))
	if r := o.l.Take(o.v.Model, id); r != nil {
		r.Set(o.v.Number, "", o.at)
		for i := range o.in {
			if n := len(o.in[i].Data) / o.rows; n*o.rows == len(o.in[i].Data) {
				r.AppendInputs(o.in[i].Data[row*n : (row+1)*n])
			}
		}
		if scored {
			r.AddScore(x)
		}
		o.l.Offer(r)
		return
	}
	if o.declined {
		return
	}
	if o.drift == nil {
		if o.drift = o.s.cfg.Drift.Take((*driftSource)(o.v), id); o.drift == nil {
			o.declined = true
			return
		}
	}
	size := 4 * o.width
	if o.drift.AddRowsFP32(o.in[0].Data[row*size:(row+1)*size], o.width) == 1 && scored {
		o.drift.AddScore(x)
	}
}

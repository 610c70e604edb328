package server

import (
	"time"

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
// another, and the score of each of its rows.
func (s *Server) offerLog(v *modelstore.Version, id []byte, at time.Time, in, out []engine.Tensor) {
	r := s.cfg.PredictionLog.Take(v.Model, id)
	if r == nil {
		return
	}
	r.Set(v.Number, "", at)
	for i := range in {
		r.AppendInputs(in[i].Data)
	}
	v.EachScore(out, func(x float64) bool { r.AddScore(x); return true })
	s.cfg.PredictionLog.Offer(r)
}

// offerLogRows offers the log each row of a records request of version
// v, answered as the predictions first..first+rows-1: the row's bytes of
// each input tensor and its score.
func (s *Server) offerLogRows(v *modelstore.Version, first uint64, rows int, in, out []engine.Tensor) {
	l := s.cfg.PredictionLog
	if l == nil || rows <= 0 {
		return
	}
	at := time.Now()
	row := 0
	v.EachScore(out, func(x float64) bool {
		if row < rows {
			s.offerLogRow(l, v, first, row, rows, at, in, x, true)
		}
		row++
		return row < rows
	})
	for ; row < rows; row++ { // a model without a score rule: rows alone
		s.offerLogRow(l, v, first, row, rows, at, in, 0, false)
	}
}

// offerLogRow offers the log row of rows of a records request, with its
// score x when scored.
func (s *Server) offerLogRow(l *tracking.PredictionLog, v *modelstore.Version, first uint64, row, rows int, at time.Time, in []engine.Tensor, x float64, scored bool) {
	var pid [predictionIDLen]byte
	r := l.Take(v.Model, s.ids.appendID(pid[:0], first+uint64(row)))
	if r == nil {
		return
	}
	r.Set(v.Number, "", at)
	for i := range in {
		if n := len(in[i].Data) / rows; n*rows == len(in[i].Data) {
			r.AppendInputs(in[i].Data[row*n : (row+1)*n])
		}
	}
	if scored {
		r.AddScore(x)
	}
	l.Offer(r)
}

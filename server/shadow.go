package server

import (
	"math"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// DefaultShadowQueue is how many requests may wait for their shadow when
// Config leaves ShadowQueue zero.
const DefaultShadowQueue = 256

// shadowJob is a copy of a request the stable version answered, for the
// shadow version to answer too. The job owns its inputs.
type shadowJob struct {
	shadow      *modelstore.Version
	in          []engine.Tensor
	stableScore float64
	hasScore    bool
}

// offerShadow hands a copy of a request the stable version answered to
// the shadow worker. It never waits: when the queue is full the copy is
// dropped and counted, and the client's answer is not delayed. The
// inputs and outputs are only read.
func (s *Server) offerShadow(shadow, stable *modelstore.Version, in, out []engine.Tensor) {
	if len(s.shadowJobs) == cap(s.shadowJobs) {
		s.metrics.shadowDropped.WithLabelValues(shadow.Model).Inc()
		return
	}
	job := &shadowJob{shadow: shadow, in: make([]engine.Tensor, len(in))}
	for i, t := range in {
		job.in[i] = engine.Tensor{Name: t.Name, DType: t.DType, Shape: append([]int64(nil), t.Shape...), Data: append([]byte(nil), t.Data...)}
	}
	job.stableScore, job.hasScore = stable.Score(out)
	select {
	case s.shadowJobs <- job:
	default:
		s.metrics.shadowDropped.WithLabelValues(shadow.Model).Inc()
	}
}

// runShadows answers the queued copies on their shadow version and
// records how each agreed with stable, until done is closed. It is the
// one shadow worker, owned by Serve.
func (s *Server) runShadows(done <-chan struct{}) {
	req := modelstore.Request{SkipCache: true} // see Request.SkipCache
	for {
		select {
		case <-done:
			return
		case job := <-s.shadowJobs:
			s.shadowOne(job, &req)
		}
	}
}

// shadowOne answers one copy. A shadow that failed counts as a mismatch
// of the widest difference.
func (s *Server) shadowOne(job *shadowJob, req *modelstore.Request) {
	v := job.shadow
	if !v.Acquire() {
		return // the shadow left service meanwhile
	}
	defer v.Release()
	s.metrics.shadowRequests.WithLabelValues(v.Model).Inc()
	req.In = job.in
	if err := v.Infer(req); err != nil {
		v.Agreement.RecordMismatch(1)
		return
	}
	score, ok := v.Score(req.Out)
	if !ok || !job.hasScore {
		v.Agreement.RecordMismatch(1)
		return
	}
	diff := math.Abs(score - job.stableScore)
	if sameAnswer(job.stableScore, score, v.ScoreClasses()) {
		v.Agreement.RecordMatch(diff)
	} else {
		v.Agreement.RecordMismatch(diff)
	}
}

// sameAnswer reports whether two scores are the same answer: the same
// side of 0.5 for a binary classifier, the same class for a multiclass
// one, and within 1% for a value.
func sameAnswer(a, b float64, classes int) bool {
	switch {
	case classes == 2:
		return (a >= 0.5) == (b >= 0.5)
	case classes > 2:
		return math.Abs(a-b) < 0.5/float64(classes-1)
	}
	return math.Abs(a-b) <= 0.01*math.Max(1, math.Abs(a))
}

// shadowMetrics are the series of shadow traffic.
func shadowMetrics() (requests, dropped *prometheus.CounterVec) {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_shadow_requests_total",
			Help: "Copies of requests answered by a model's shadow version.",
		}, []string{"model"}),
		prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_shadow_dropped_total",
			Help: "Copies of requests for a model's shadow dropped because the shadow queue was full.",
		}, []string{"model"})
}

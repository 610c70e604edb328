package drift

import (
	"unsafe"

	"github.com/switchyard-ml/switchyard/internal/sampling"
)

// This file is the hot path's side of the monitor: choosing the sampled
// predictions and copying their rows into pooled buffers, without
// allocating and without ever waiting on the monitor's goroutine.

// Source is a serving version as the monitor sees it. The server adapts
// its versions to it; a Source is compared by identity, so each load of a
// version must be a distinct value (a pointer).
type Source interface {
	// Describe says what the version is and where its profile lies. The
	// monitor calls it once, in its own goroutine, when it first sees a
	// sample of the version.
	Describe() Description
	// Policy returns the model's drift settings in force. The monitor
	// calls it in its own goroutine at each evaluation, so that an edit
	// of policy.yaml takes effect.
	Policy() (Policy, error)
	// Serving reports whether the version is still loaded; once it is
	// not, the monitor forgets it and removes its metrics.
	Serving() bool
}

// Description is what the monitor needs to know of a version.
type Description struct {
	// Model and Version name the version.
	Model   string
	Version int
	// Dir is the version's directory, where ProfileFile lies.
	Dir string
	// Columns are the columns of each input row, in order.
	Columns []ColumnSpec
	// Problem, when set, says why the monitor cannot read the version's
	// rows; the version is then not judged and its report says why.
	Problem string
}

// ColumnSpec is one column of a version's input rows.
type ColumnSpec struct {
	Name string
	Kind Kind
	// Values are a categorical column's values by index: the rows carry
	// the index as a number, or, with Width > 1, a one-hot block. Nil for
	// numeric columns.
	Values []string
	// Width > 1 makes the column the first of a one-hot block of Width
	// columns, one per value: the value is that of the hot column. The
	// block's other columns have specs with no Name, and are not judged.
	Width int
}

// Sample is one prediction on its way to the monitor: a pooled buffer
// that Take hands out and Offer gives back. It is not safe for concurrent
// use, and must not be used after Offer.
type Sample struct {
	src    Source
	width  int
	rows   []float32
	scores []float64
}

// MaxSampleRows caps the rows a sample holds: a request's rows past it
// are not kept, so that one large batch cannot fill a window alone or
// grow a pooled buffer without bound.
const MaxSampleRows = 64

// Take returns an empty sample for the prediction id of a version's
// request, or nil when the version's sampling rate leaves the id out or
// every buffer is in use (the drop is counted). It allocates nothing once
// the pool's buffers have grown to the model's row size. Safe for
// concurrent use; nil-safe.
func (m *Monitor) Take(src Source, id []byte) *Sample {
	if m == nil || !m.Sampled(src, id) {
		return nil
	}
	return m.Gather(src)
}

// Gather returns an empty sample of src for rows the caller chooses
// itself, each prediction's by Sampled: a caller off the hot path that
// offers many predictions at once (the prediction log's writer, a
// fleet's stream) gathers their rows into as few samples as hold them.
// It returns nil, and counts the drop, when every buffer is in use.
// Safe for concurrent use; nil-safe.
func (m *Monitor) Gather(src Source) *Sample {
	if m == nil {
		return nil
	}
	select {
	case s := <-m.free:
		s.src, s.width, s.rows, s.scores = src, 0, s.rows[:0], s.scores[:0]
		return s
	default:
		m.metrics.dropped.Inc()
		return nil
	}
}

// Sampled reports whether the prediction id falls within src's sampling
// rate: a hash of the id against the rate, so that every replica keeps
// the same ids. Nil-safe.
func (m *Monitor) Sampled(src Source, id []byte) bool {
	if m == nil {
		return false
	}
	limit := uint64(sampling.All) // rate 1 until the monitor learns the policy
	if r, ok := m.rates.Load(src); ok {
		limit = r.(*rate).limit.Load()
	}
	return sampling.Keep(id, limit)
}

// SetRowsFP32 copies the rows of data, float32 values in the machine's
// byte order (a tensor's Data) of width columns each, into s in place of
// the rows it holds (at most MaxSampleRows rows).
func (s *Sample) SetRowsFP32(data []byte, width int) {
	s.width, s.rows = 0, s.rows[:0]
	s.AddRowsFP32(data, width)
}

// AddRowsFP32 appends the rows of data, laid out as SetRowsFP32 takes
// them, to the rows s holds, as many as fit within MaxSampleRows, and
// returns how many it took: none once s is full, or when s holds rows of
// another width.
func (s *Sample) AddRowsFP32(data []byte, width int) int {
	if width <= 0 || (s.width != 0 && s.width != width) {
		return 0
	}
	at := len(s.rows)
	n := min(len(data)/(4*width), MaxSampleRows-at/width)
	if n <= 0 {
		return 0
	}
	if cap(s.rows) < MaxSampleRows*width {
		s.rows = append(make([]float32, 0, MaxSampleRows*width), s.rows...)
	}
	s.width = width
	s.rows = s.rows[:at+n*width]
	// Tensor data is in the machine's byte order (onnxruntime's and
	// package engine's), so the rows are copied as they lie.
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&s.rows[at])), 4*n*width), data)
	return n
}

// AddScore appends the score of the next row; scores beyond the rows kept
// are ignored.
func (s *Sample) AddScore(v float64) {
	if len(s.scores) < MaxSampleRows {
		s.scores = append(s.scores, v)
	}
}

// Offer hands s to the monitor without waiting: s is dropped and counted
// when the monitor is behind. s must not be used afterwards. Nil-safe.
func (m *Monitor) Offer(s *Sample) {
	if m == nil || s == nil {
		return
	}
	select {
	case m.samples <- s:
	default:
		m.metrics.dropped.Inc()
		m.release(s)
	}
}

// release returns s to the pool.
func (m *Monitor) release(s *Sample) {
	s.src = nil
	select {
	case m.free <- s:
	default:
	}
}

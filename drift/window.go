package drift

import (
	"math"
	"strconv"
	"time"
)

// window holds the rows of one version's predictions over a span of time
// as they came, row after row (a categorical column's value index or
// one-hot block as the rows carried them), and the score of each row when
// the model gives one. Adding rows is one copy; the columns are cut out
// only when the window is judged. It is owned by the monitor's goroutine.
type window struct {
	start, end time.Time
	rows       int
	width      int
	data       []float32
	scores     []float64
}

// newWindow returns an empty window of rows width columns wide, with room
// for rows rows (at most maxWindowPrealloc) so that filling it does not
// grow it.
func newWindow(width, rows int) *window {
	rows = min(rows, maxWindowPrealloc)
	return &window{width: width, data: make([]float32, 0, rows*width), scores: make([]float64, 0, rows)}
}

// maxWindowPrealloc bounds the rows a new window makes room for at once.
const maxWindowPrealloc = 1 << 16

// reset empties w, keeping its memory.
func (w *window) reset() {
	w.data, w.scores = w.data[:0], w.scores[:0]
	w.rows, w.start, w.end = 0, time.Time{}, time.Time{}
}

// add appends the rows of s at now. Rows of another width than the
// version's columns are ignored.
func (w *window) add(s *Sample, now time.Time) {
	if s.width != w.width || s.width == 0 {
		return
	}
	n := len(s.rows) / s.width
	if n == 0 {
		return
	}
	if w.rows == 0 {
		w.start = now
	}
	w.end = now
	w.data = append(w.data, s.rows[:n*s.width]...)
	if len(s.scores) >= n {
		w.scores = append(w.scores, s.scores[:n]...)
	}
	w.rows += n
}

// full reports whether w is done at now under p: it holds WindowRows rows
// or began Window ago.
func (w *window) full(p Policy, now time.Time) bool {
	return w.rows >= p.WindowRows || (w.rows > 0 && now.Sub(w.start) >= p.Window)
}

// column returns column i of w as spec describes it, for Compare. A
// category index outside spec's values is kept as its number in text, so
// that it counts as an unseen category.
func (w *window) column(i int, spec ColumnSpec) Column {
	vals := make([]float64, w.rows)
	for r := range vals {
		vals[r] = float64(w.data[r*w.width+i])
	}
	col := Column{Name: spec.Name, Kind: spec.Kind}
	if spec.Kind == Numeric {
		col.Numbers = vals
		return col
	}
	col.Categories = make([]string, len(vals))
	if spec.Width > 1 {
		for j := range vals {
			col.Categories[j] = w.hotCategory(i, j, spec)
		}
		return col
	}
	for j, x := range vals {
		col.Categories[j] = categoryOf(x, spec.Values)
	}
	return col
}

// hotCategory names the value of row j's one-hot block that starts at
// column i: the value of its column holding 1, or "none" when no column
// or more than one does.
func (w *window) hotCategory(i, j int, spec ColumnSpec) string {
	hot := -1
	for k := range min(spec.Width, len(spec.Values), w.width-i) {
		if w.data[j*w.width+i+k] == 1 {
			if hot >= 0 {
				return "none"
			}
			hot = k
		}
	}
	if hot < 0 {
		return "none"
	}
	return spec.Values[hot]
}

// categoryOf names the category at index x of values.
func categoryOf(x float64, values []string) string {
	if k := int(x); float64(k) == x && k >= 0 && k < len(values) {
		return values[k]
	}
	if math.IsNaN(x) {
		return "NaN"
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// scoreColumn returns the scores of w as a numeric column named name, or
// false when some rows came without one.
func (w *window) scoreColumn(name string) (Column, bool) {
	if len(w.scores) != w.rows || w.rows == 0 {
		return Column{}, false
	}
	return Column{Name: name, Kind: Numeric, Numbers: w.scores}, true
}

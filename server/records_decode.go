package server

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/suggest"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// MaxInstances is the most instances one records request may carry; a
// request with more is answered 400. The request body limit
// (Config.MaxRequestBodySize) applies too.
const MaxInstances = 1024

// recordSchema is what the records API needs of a version: its features,
// where they go in its inputs, what it does with fields it does not name,
// and the output it answers with. It shares the version's slices, which
// nobody modifies.
type recordSchema struct {
	features      []modelstore.Feature
	layout        *modelstore.FeaturePlacement
	ignoreUnknown bool
	classes       []string // the manifest's class names; empty: "0", "1", ...
	output        int      // index of the output the answer reads
	width         int      // its columns per row: 1 for a value, k >= 2 for class probabilities
}

// hint returns ` (did you mean "x"?)` for the feature an unknown field
// name most likely meant, or "". It allocates: only a refused request
// calls it.
func (s *recordSchema) hint(name string) string {
	names := make([]string, len(s.features))
	for i := range s.features {
		names[i] = s.features[i].Name
	}
	return suggest.Hint(name, names)
}

// recordSchemaOf returns the records schema of v, or an error wrapping
// errNoRecords when v cannot serve records: it has no feature schema, or
// no float output to answer with.
func recordSchemaOf(v *modelstore.Version) (recordSchema, error) {
	if v.Features == nil || v.Manifest == nil || len(v.Manifest.Features) == 0 {
		return recordSchema{}, fmt.Errorf("model %q version %d has no feature schema (publish --schema sets one): %w",
			v.Model, v.Number, errNoRecords)
	}
	output, width := predictionOutput(v.Signature)
	if output < 0 {
		return recordSchema{}, fmt.Errorf("model %q version %d has no FP32 or FP64 output of shape [rows] or [rows, k] "+
			"for a prediction: %w", v.Model, v.Number, errNoRecords)
	}
	m := v.Manifest
	return recordSchema{features: m.Features, layout: v.Features, ignoreUnknown: m.UnknownFields == modelstore.UnknownIgnore,
		classes: m.Classes, output: output, width: width}, nil
}

// predictionOutput returns the output a records answer reads and its columns
// per row: the first FP32 or FP64 output of shape [rows] or [rows, k] with
// k known, the one the gate reads and Schema.Check matches Classes
// against. k is 1 for [rows]. It returns -1 when there is none.
func predictionOutput(sig *engine.Signature) (output, width int) {
	for j, o := range sig.Outputs {
		if o.DType != engine.FP32 && o.DType != engine.FP64 || len(o.Shape) == 0 || len(o.Shape) > 2 || o.Shape[0] != -1 {
			continue
		}
		if len(o.Shape) == 1 {
			return j, 1
		}
		if o.Shape[1] > 0 {
			return j, int(o.Shape[1])
		}
	}
	return -1, 0
}

// records is a records request decoded into a version's inputs. It is
// per-request scratch, part of the pooled scratch: its slices keep their
// capacity across requests, reset clears it, and it is not safe for
// concurrent use.
type records struct {
	inputs   []engine.Tensor // in signature order, one row per instance
	rows     int             // the number of instances
	seen     []bool          // per feature: whether the instance being decoded gave it
	num      []byte          // the text of the number being decoded
	problems []problem       // what is wrong with the instances; handed to the error, never reused
}

// reset clears r for the next request, keeping the capacity of its
// buffers.
func (r *records) reset() {
	for i := range r.inputs {
		t := &r.inputs[i]
		t.Name, t.DType = "", engine.DTypeInvalid
		t.Shape, t.Data = t.Shape[:0], t.Data[:0]
	}
	r.inputs = r.inputs[:0]
	r.rows = 0
	r.problems = nil
}

// pooledBytes is what r's buffers hold, for the pool's size cap.
func (r *records) pooledBytes() int {
	n := cap(r.num) + cap(r.seen)
	for _, t := range r.inputs[:cap(r.inputs)] {
		n += cap(t.Data)
	}
	return n
}

// decodeRecords parses body, a records request {"instances": [{...},
// ...]}, validates every instance against sch and encodes them into
// r.inputs, one row per instance, as sch's layout says: a number or
// integer as itself, a bool as 0 or 1, a category as the index of its
// value or, one-hot, a 1 in its value's column. A field that is absent or
// null takes the feature's default.
//
// A malformed request (not JSON, not an object holding only "instances",
// no instance, more than MaxInstances, an instance that is not an object,
// a field given twice) is a *httpapi.RequestError. Instances that break the
// schema give a *problemsError listing every problem of every instance,
// in order of instance, then of field in the instance, then of missing
// fields in schema order. On error r.inputs hold garbage.
//
// A request as clients usually write it is decoded in one pass over body
// (fastRecords); anything else, every error included, by a pooled
// fastjson parser (records.parse), which words the problems. Nothing
// refers to body or a parser afterwards. It allocates nothing for a valid
// request once r has grown to its size.
func decodeRecords(body []byte, sch *recordSchema, r *records) error {
	r.reset()
	if fastRecords(body, sch, r) {
		return nil
	}
	r.reset()
	p := codecParsers.Get()
	err := r.parse(p, body, sch)
	codecParsers.Put(p)
	return err
}

// begin readies r for a request to sch: r.inputs named and typed as the
// layout says, with no rows yet, and r.seen sized.
func (r *records) begin(sch *recordSchema) {
	r.inputs = withLen(r.inputs, len(sch.layout.Inputs))
	for k := range sch.layout.Inputs {
		slot := &sch.layout.Inputs[k]
		t := &r.inputs[k]
		t.Name, t.DType, t.Data = slot.Name, slot.DType, t.Data[:0]
	}
	r.seen = withLen(r.seen, len(sch.features))
}

// addRows appends n rows of zeros to every input, for n more instances.
func (r *records) addRows(sch *recordSchema, n int) {
	r.rows += n
	for k := range sch.layout.Inputs {
		slot := &sch.layout.Inputs[k]
		t := &r.inputs[k]
		t.Shape = append(t.Shape[:0], int64(r.rows))
		if slot.Shape2D {
			t.Shape = append(t.Shape, int64(slot.Columns))
		}
		old, size := len(t.Data), n*slot.Columns*slot.DType.Size()
		t.Data = slices.Grow(t.Data, size)[:old+size]
		clear(t.Data[old:])
	}
}

// lookup returns the index of the feature called key, or -1. It looks
// at *hint first and moves it past the feature found, so that fields in
// schema order are found at the first try.
func (sch *recordSchema) lookup(key []byte, hint *int) int {
	fs := sch.features
	for k := range fs {
		j := *hint + k
		if j >= len(fs) {
			j -= len(fs)
		}
		if fs[j].Name == string(key) {
			*hint = j + 1
			return j
		}
	}
	return -1
}

// dtype is the element type of the input feature f feeds.
func (sch *recordSchema) dtype(f int) engine.DType {
	return sch.layout.Inputs[sch.layout.Features[f].Input].DType
}

// cell is one feature value as every element type takes it: f32 for
// FP32, f64 for FP64, i for the integer types and BOOL. A number sets
// only the float its input's type needs; a category holds the index of
// its value.
type cell struct {
	f32 float32
	f64 float64
	i   int64
}

// intCell is the cell of a whole value.
func intCell(i int64) cell { return cell{f32: float32(i), f64: float64(i), i: i} }

// boolCell is the cell of a bool: 1 or 0.
func boolCell(b bool) cell {
	if b {
		return intCell(1)
	}
	return intCell(0)
}

// fault says why a number cannot feed its feature; faultNone when it
// can. The full decoder words each as a problem (records.report).
type fault uint8

const (
	faultNone     fault = iota
	faultNotWhole       // an integer feature's value has a fraction: type
	faultBelow          // below the feature's Min: range
	faultAbove          // above its Max: range
	faultInt64          // an integer beyond int64: range
	faultInt32          // an integer beyond the INT32 input it feeds: range
	faultFloat          // beyond the range of the float input it feeds: not_finite
)

// numberCell converts num, written raw, the value of the number feature
// feat, for an input of type dt: FP32 or FP64, rounded from the text as
// V2 rounds it. Min and Max apply to the text's value.
func numberCell(feat *modelstore.Feature, num *jsonNumber, raw []byte, dt engine.DType) (cell, fault) {
	var (
		c  cell
		ok bool
	)
	switch dt {
	case engine.FP32:
		if c.f32, ok = num.float32(raw); !ok {
			return c, faultFloat
		}
		if feat.Min == nil && feat.Max == nil {
			return c, faultNone
		}
		c.f64, _ = num.float64(raw) // cannot fail: it fits a float32
	case engine.FP64:
		if c.f64, ok = num.float64(raw); !ok {
			return c, faultFloat
		}
	default:
		panic(fmt.Sprintf("BUG: number feature %q feeds a %s input, which Schema.Check refuses", feat.Name, dt))
	}
	return c, bounds(feat, c.f64)
}

// integerCell converts num, the value of the integer feature feat, for an
// input of type dt: it must be whole, fit an int64 and, for an INT32
// input, an int32.
func integerCell(feat *modelstore.Feature, num *jsonNumber, dt engine.DType) (cell, fault) {
	n, st := num.int64()
	switch {
	case st == numFraction:
		return cell{}, faultNotWhole
	case st == numOutOfRange:
		return cell{}, faultInt64
	}
	if f := bounds(feat, float64(n)); f != faultNone {
		return cell{}, f
	}
	if dt == engine.INT32 && (n < math.MinInt32 || n > math.MaxInt32) {
		return cell{}, faultInt32
	}
	return intCell(n), faultNone
}

// bounds says whether x lies within feat's Min and Max, inclusive.
func bounds(feat *modelstore.Feature, x float64) fault {
	switch {
	case feat.Min != nil && x < *feat.Min:
		return faultBelow
	case feat.Max != nil && x > *feat.Max:
		return faultAbove
	}
	return faultNone
}

// categoryIndex returns the index of s among the category feat's values,
// or -1.
func categoryIndex(feat *modelstore.Feature, s []byte) int {
	for k, v := range feat.Values {
		if v == string(s) {
			return k
		}
	}
	return -1
}

// putDefaults encodes the default of every feature instance i did not
// give (r.seen), and reports whether each of those has one.
func (r *records) putDefaults(sch *recordSchema, i int) bool {
	ok := true
	for f := range sch.features {
		switch {
		case r.seen[f]:
		case sch.features[f].Default == nil:
			ok = false
		default:
			r.put(sch, i, f, defaultCell(&sch.features[f]))
		}
	}
	return ok
}

// defaultCell is the cell of feat's default, which Schema.Check has
// checked: a float64 for a number or integer, a string among Values for
// a category, a bool.
func defaultCell(feat *modelstore.Feature) cell {
	switch d := feat.Default.(type) {
	case float64:
		if feat.Type == modelstore.TypeInteger {
			return intCell(int64(d))
		}
		return cell{f32: float32(d), f64: d}
	case bool:
		return boolCell(d)
	case string:
		if k := slices.Index(feat.Values, d); k >= 0 {
			return intCell(int64(k))
		}
	}
	panic(fmt.Sprintf("BUG: feature %q has default %#v, which Schema.Check refuses", feat.Name, feat.Default))
}

// put encodes cell c of feature f into instance i's row: at the
// feature's column, or for a one-hot category a 1 in the column of the
// value's index (c.i) and 0, already there, in the others.
func (r *records) put(sch *recordSchema, i, f int, c cell) {
	fs := &sch.layout.Features[f]
	slot := &sch.layout.Inputs[fs.Input]
	at := i*slot.Columns + fs.Column
	if fs.Width > 1 {
		at += int(c.i)
		c = intCell(1)
	}
	data := r.inputs[fs.Input].Data
	le := binary.LittleEndian
	switch slot.DType {
	case engine.FP32:
		le.PutUint32(data[at*4:], math.Float32bits(c.f32))
	case engine.FP64:
		le.PutUint64(data[at*8:], math.Float64bits(c.f64))
	case engine.INT64:
		le.PutUint64(data[at*8:], uint64(c.i))
	case engine.INT32:
		le.PutUint32(data[at*4:], uint32(int32(c.i)))
	case engine.BOOL:
		data[at] = byte(c.i)
	default:
		panic(fmt.Sprintf("BUG: input %q is %s, which Schema.Check refuses", slot.Name, slot.DType))
	}
}

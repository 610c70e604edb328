package ops

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// exportLayout is how Export reads the logged inputs of one version: the
// bytes of one row of each signature input, one after another, as the
// server logs a prediction (server/predlog.go), decoded into named
// columns. It is built once per version and only read afterwards.
type exportLayout struct {
	version int
	// inputs are the signature's inputs in order, each with its bytes'
	// offset in a logged row.
	inputs []exportInput
	// rowBytes is the length of one logged row: the sum of the inputs'.
	rowBytes int
	// columns are the exported input columns, in order.
	columns []exportColumn
}

// exportInput is one signature input within a logged row.
type exportInput struct {
	dtype   engine.DType
	columns int
	offset  int
}

// The kinds of an exported input column: how its element(s) become a
// value.
const (
	kindNumber   = iota // the element as a number
	kindInteger         // the element as a whole number
	kindBool            // the element, 0 or 1, as false or true
	kindCategory        // the element as the index of one of values
	kindOneHot          // the block of width elements as the one of values set to 1
)

// exportColumn is one exported input column: a feature of the records
// schema or, without one, an element of an input.
type exportColumn struct {
	name   string
	kind   int
	input  int // index into exportLayout.inputs
	column int // first element within the input's row
	width  int // elements: len(values) for kindOneHot, else 1
	values []string
}

// names returns the layout's column names.
func (l *exportLayout) names() []string {
	out := make([]string, len(l.columns))
	for i := range l.columns {
		out[i] = l.columns[i].name
	}
	return out
}

// sameColumns reports whether l and o export the same columns, so that
// their rows fit under one CSV header.
func (l *exportLayout) sameColumns(o *exportLayout) bool {
	return slices.Equal(l.names(), o.names())
}

// exportFixed are the columns every exported row has besides its inputs:
// the first four before them, the last three after.
var exportFixed = [...]string{"prediction_id", "time", "version", "arm", "score", "label", "label_time"}

// readLayout builds the layout of version of model from its manifest in
// the registry at dir: the records schema's features when it has one,
// else input_0..input_{k-1} over the elements of every input's row.
func readLayout(dir, model string, version int) (*exportLayout, error) {
	m, err := modelstore.ReadManifest(modelstore.VersionDir(dir, model, version))
	if err != nil {
		return nil, fmt.Errorf("version %d: %w", version, err)
	}
	if m.Signature == nil {
		return nil, fmt.Errorf("version %d: its manifest records no signature (placed by hand?), so its logged inputs cannot be read", version)
	}
	sig, err := exportSignature(m.Signature)
	if err != nil {
		return nil, fmt.Errorf("version %d: %w", version, err)
	}
	l := &exportLayout{version: version}
	if schema := m.SchemaOf(); schema != nil {
		placed, err := schema.Check(sig)
		if err != nil {
			return nil, fmt.Errorf("version %d: %w", version, err)
		}
		for _, in := range placed.Inputs {
			l.addInput(in.DType, in.Columns)
		}
		for i, f := range schema.Features {
			slot := placed.Features[i]
			c := exportColumn{name: f.Name, input: slot.Input, column: slot.Column, width: slot.Width}
			switch {
			case f.Type == modelstore.TypeInteger:
				c.kind = kindInteger
			case f.Type == modelstore.TypeBool:
				c.kind = kindBool
			case f.Type == modelstore.TypeCategory && f.Encoding == modelstore.EncodeOneHot:
				c.kind, c.values = kindOneHot, f.Values
			case f.Type == modelstore.TypeCategory:
				c.kind, c.values = kindCategory, f.Values
			}
			l.columns = append(l.columns, c)
		}
	} else {
		for i, in := range sig.Inputs {
			cols := 1
			switch {
			case in.DType.Size() == 0 || len(in.Shape) == 0 || len(in.Shape) > 2 || len(in.Shape) == 2 && in.Shape[1] <= 0:
				return nil, fmt.Errorf("version %d: input %q is %s of shape %v: export reads [rows] or [rows, columns] inputs with known columns",
					version, in.Name, in.DType, in.Shape)
			case len(in.Shape) == 2:
				cols = int(in.Shape[1])
			}
			l.addInput(in.DType, cols)
			kind := kindNumber
			if in.DType == engine.BOOL {
				kind = kindBool
			}
			for c := range cols {
				l.columns = append(l.columns, exportColumn{name: "input_" + strconv.Itoa(len(l.columns)), kind: kind, input: i, column: c, width: 1})
			}
		}
	}
	for _, c := range l.columns {
		if slices.Contains(exportFixed[:], c.name) {
			return nil, fmt.Errorf("version %d: feature %q has the name of a column every export has (%v); rename it in the schema to export it",
				version, c.name, exportFixed)
		}
	}
	return l, nil
}

// addInput appends an input of columns elements of dtype to l's row.
func (l *exportLayout) addInput(dtype engine.DType, columns int) {
	l.inputs = append(l.inputs, exportInput{dtype: dtype, columns: columns, offset: l.rowBytes})
	l.rowBytes += columns * dtype.Size()
}

// exportSignature converts a manifest's signature to the engine's form.
func exportSignature(m *modelstore.ManifestSignature) (*engine.Signature, error) {
	conv := func(kind string, ts []modelstore.ManifestTensor) ([]engine.TensorInfo, error) {
		out := make([]engine.TensorInfo, len(ts))
		for i, t := range ts {
			dt, ok := engine.ParseDType(t.Datatype)
			if !ok {
				return nil, fmt.Errorf("signature %s %q: unknown datatype %q", kind, t.Name, t.Datatype)
			}
			out[i] = engine.TensorInfo{Name: t.Name, DType: dt, Shape: t.Shape}
		}
		return out, nil
	}
	ins, err := conv("input", m.Inputs)
	if err != nil {
		return nil, err
	}
	outs, err := conv("output", m.Outputs)
	if err != nil {
		return nil, err
	}
	return &engine.Signature{Inputs: ins, Outputs: outs}, nil
}

// errNotOneRow is why a logged prediction is left out of an export: its
// inputs are not one row of its version's inputs.
var errNotOneRow = errors.New("inputs not one row")

// cellKind says how a decoded value is written in JSON.
type cellKind uint8

const (
	cellNull cellKind = iota
	cellNumber
	cellBool
	cellString
)

// cell is one decoded value: its text (CSV writes it as is; JSON writes
// a number or a bool as is and quotes a string) and its kind.
type cell struct {
	text string
	kind cellKind
}

// decode decodes row, one logged row of l's inputs, into cells, which
// must have one cell per column. It fails with errNotOneRow when row is
// not one row long. A value the schema cannot name (a category index out
// of range, a block that is not one-hot, which only the V2 API can send)
// is null, as is a number that is not finite.
func (l *exportLayout) decode(row []byte, cells []cell) error {
	if len(row) != l.rowBytes || l.rowBytes == 0 {
		return errNotOneRow
	}
	for i := range l.columns {
		c := &l.columns[i]
		in := &l.inputs[c.input]
		at := func(k int) float64 { return element(row[in.offset+(c.column+k)*in.dtype.Size():], in.dtype) }
		v := at(0)
		cells[i] = cell{}
		switch c.kind {
		case kindNumber:
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				bits := 64
				if in.dtype == engine.FP32 {
					bits = 32
				}
				cells[i] = cell{strconv.FormatFloat(v, 'g', -1, bits), cellNumber}
			}
		case kindInteger:
			if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
				cells[i] = cell{strconv.FormatInt(int64(v), 10), cellNumber}
			}
		case kindBool:
			switch v {
			case 0:
				cells[i] = cell{"false", cellBool}
			case 1:
				cells[i] = cell{"true", cellBool}
			}
		case kindCategory:
			if v == math.Trunc(v) && v >= 0 && v < float64(len(c.values)) {
				cells[i] = cell{c.values[int(v)], cellString}
			}
		case kindOneHot:
			hot, ones, other := 0, 0, false
			for k := range c.width {
				switch at(k) {
				case 0:
				case 1:
					hot, ones = k, ones+1
				default:
					other = true
				}
			}
			if ones == 1 && !other {
				cells[i] = cell{c.values[hot], cellString}
			}
		}
	}
	return nil
}

// element reads the little-endian element of type dt at the start of b.
func element(b []byte, dt engine.DType) float64 {
	switch dt {
	case engine.FP32:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	case engine.FP64:
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	case engine.INT64:
		return float64(int64(binary.LittleEndian.Uint64(b)))
	case engine.INT32:
		return float64(int32(binary.LittleEndian.Uint32(b)))
	case engine.INT8:
		return float64(int8(b[0]))
	case engine.UINT8, engine.BOOL:
		return float64(b[0])
	}
	return math.NaN()
}

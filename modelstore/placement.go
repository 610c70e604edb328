package modelstore

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/switchyard-ml/switchyard/engine"
)

// FeaturePlacement is where a checked schema's features go in a model's
// inputs. Check builds it; it is not modified afterwards, so it may be
// read concurrently.
type FeaturePlacement struct {
	// Inputs has one slot per signature input, in signature order.
	Inputs []InputSlot
	// Features has one slot per Schema.Features, in the same order.
	Features []FeatureSlot
}

// InputSlot is one model input as the records API fills it: rows of
// Columns elements of DType, every column fed by exactly one feature.
type InputSlot struct {
	// Name is the input's name in the signature.
	Name string
	// DType is its element type: FP32, FP64, INT64, INT32 or BOOL.
	DType engine.DType
	// Columns is the number of elements per row: the second dimension of
	// [rows, columns], or 1 for [rows] and [rows, 1].
	Columns int
	// Shape2D says whether the input is [rows, columns] (including
	// [rows, 1]) rather than [rows].
	Shape2D bool
}

// FeatureSlot is where one feature goes: columns [Column, Column+Width)
// of each row of input Inputs[Input].
type FeatureSlot struct {
	// Input is an index into FeaturePlacement.Inputs.
	Input int
	// Column is the feature's first column in a row of that input.
	Column int
	// Width is the number of columns it fills: len(Values) for a one-hot
	// category, 1 otherwise.
	Width int
}

// width is the number of columns f fills.
func (f *Feature) width() int {
	if f.Type == TypeCategory && f.Encoding == EncodeOneHot {
		return len(f.Values)
	}
	return 1
}

// place checks the model's inputs and where each feature goes in them,
// and returns the placement (meaningful only when p stays empty).
func (s *Schema) place(sig *engine.Signature, p *problems) *FeaturePlacement {
	l := &FeaturePlacement{Inputs: make([]InputSlot, len(sig.Inputs)), Features: make([]FeatureSlot, len(s.Features))}
	names := make([]string, len(sig.Inputs))
	for i, in := range sig.Inputs {
		names[i] = fmt.Sprintf("%q", in.Name)
		l.Inputs[i] = inputSlot(&in, p)
	}
	// fed lists, per input, the features placed in it.
	fed := make([][]int, len(sig.Inputs))
	for i := range s.Features {
		f, at := &s.Features[i], s.label(i)
		in := 0
		switch {
		case f.Input == "" && len(sig.Inputs) != 1:
			p.add("%s: no input named, and the model has %d inputs (%s): set input", at, len(sig.Inputs), strings.Join(names, ", "))
			continue
		case f.Input != "":
			if in = sig.InputIndex(f.Input); in < 0 {
				p.add("%s: input %q is not one of the model's inputs (%s)", at, f.Input, strings.Join(names, ", "))
				continue
			}
		}
		slot := &l.Inputs[in]
		l.Features[i] = FeatureSlot{Input: in, Column: f.Position, Width: f.width()}
		if msg := feeds(f, slot.DType); msg != "" {
			p.add("%s: %s cannot feed input %q, which is %s: %s", at, kindOf(f), slot.Name, slot.DType, msg)
		}
		if slot.Columns == 0 || f.Position < 0 || l.Features[i].Width == 0 {
			continue // reported already
		}
		if w := l.Features[i].Width; f.Position > slot.Columns-w { // not f.Position+w, which may overflow
			last := uint64(f.Position) + uint64(w) - 1 // f.Position >= 0, w >= 1
			if slot.Columns == 1 {
				p.add("%s: input %q of shape %v holds one value per row: the feature must be at position 0, of width 1, not columns %d to %d",
					at, slot.Name, sig.Inputs[in].Shape, f.Position, last)
			} else {
				p.add("%s: columns %d to %d are outside input %q, which has %d columns", at, f.Position, last, slot.Name, slot.Columns)
			}
			continue
		}
		fed[in] = append(fed[in], i)
	}
	for in, feats := range fed {
		slot := &l.Inputs[in]
		if slot.Columns == 0 {
			continue // reported already
		}
		slices.SortStableFunc(feats, func(a, b int) int { return l.Features[a].Column - l.Features[b].Column })
		var gaps []string
		next, last := 0, -1 // the first column not yet fed; the feature that fed the one before it
		for _, i := range feats {
			fs := l.Features[i]
			switch {
			case fs.Column > next:
				gaps = append(gaps, columnRange(next, fs.Column-1))
			case fs.Column < next:
				p.add("%s: columns %d to %d of input %q overlap %s", s.label(i), fs.Column, fs.Column+fs.Width-1, slot.Name, s.label(last))
			}
			if end := fs.Column + fs.Width; end > next {
				next, last = end, i
			}
		}
		if next < slot.Columns {
			gaps = append(gaps, columnRange(next, slot.Columns-1))
		}
		if len(gaps) > 0 {
			p.add("input %q: no feature feeds column %s (every column of every input needs one)", slot.Name, strings.Join(gaps, ", "))
		}
	}
	return l
}

// columnRange words the columns from a to b, inclusive.
func columnRange(a, b int) string {
	if a == b {
		return strconv.Itoa(a)
	}
	return fmt.Sprintf("%d-%d", a, b)
}

// inputSlot describes one model input, reporting why features cannot
// feed it; such an input gets Columns 0.
func inputSlot(in *engine.TensorInfo, p *problems) InputSlot {
	slot := InputSlot{Name: in.Name, DType: in.DType}
	switch in.DType {
	case engine.FP32, engine.FP64, engine.INT64, engine.INT32, engine.BOOL:
	default:
		p.add("input %q is %s: features feed FP32, FP64, INT64, INT32 and BOOL inputs", in.Name, in.DType)
		return slot
	}
	switch {
	case len(in.Shape) == 0 || len(in.Shape) > 2 || len(in.Shape) == 2 && in.Shape[1] <= 0:
		p.add("input %q has shape %v: features feed [rows] or [rows, columns] with a known number of columns", in.Name, in.Shape)
	case in.Shape[0] != -1:
		p.add("input %q has shape %v: its first dimension must be the batch, dynamic (-1)", in.Name, in.Shape)
	case len(in.Shape) == 1:
		slot.Columns = 1
	default:
		slot.Columns, slot.Shape2D = int(in.Shape[1]), true
	}
	return slot
}

// kindOf words f's type and encoding for a message.
func kindOf(f *Feature) string {
	if f.Type == TypeCategory && f.Encoding == EncodeOneHot {
		return "a one-hot category"
	}
	switch f.Type {
	case TypeInteger:
		return "an integer"
	case TypeCategory, TypeBool, TypeNumber:
		return "a " + f.Type
	}
	return fmt.Sprintf("type %q", f.Type)
}

// feeds says why f cannot feed an input of element type dt, or "" when it
// can.
func feeds(f *Feature, dt engine.DType) string {
	switch dt {
	case engine.INT64, engine.INT32:
		switch {
		case f.Type == TypeNumber:
			return "use type integer, or an FP32 or FP64 input"
		case f.Type == TypeCategory && f.Encoding == EncodeOneHot:
			return "an integer input takes a category as its index (encoding value)"
		}
	case engine.BOOL:
		if f.Type != TypeBool {
			return "a BOOL input takes bool features only"
		}
	}
	return ""
}

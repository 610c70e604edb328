package modelstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard-ml/switchyard/engine"
)

// The types of a feature, as Feature.Type names them.
const (
	TypeNumber   = "number"   // any finite number
	TypeInteger  = "integer"  // a whole number
	TypeCategory = "category" // one of Feature.Values, a string
	TypeBool     = "bool"     // true or false
)

// The encodings of a feature, as Feature.Encoding names them: how its
// value reaches the model.
const (
	// EncodeValue puts the value in one column (Position) of the input:
	// a number or integer as itself, a bool as 0 or 1, a category as the
	// index of its value in Values. It is the default.
	EncodeValue = "value"
	// EncodeOneHot puts a category in len(Values) columns starting at
	// Position: 1 in the column of its value's index, 0 in the others.
	EncodeOneHot = "one_hot"
)

// What the records API does with a field the schema does not name, as
// Manifest.UnknownFields says.
const (
	UnknownReject = "reject" // a 422 naming the field; the default
	UnknownIgnore = "ignore" // the field is dropped
)

// Feature describes one named input feature of the records API: what a
// client sends for it and how it reaches the model.
//
//	{"name": "amount", "type": "number", "min": 0, "description": "in cents", "position": 0}
//	{"name": "country", "type": "category", "values": ["FR", "DE", "US"], "encoding": "one_hot", "position": 5}
//	{"name": "is_foreign", "type": "bool", "default": false, "position": 8}
//	{"name": "merchant", "type": "category", "values": ["food", "travel"], "input": "merchant_id"}
type Feature struct {
	// Name is the field name in a record.
	Name string `json:"name" yaml:"name"`
	// Type is TypeNumber, TypeInteger, TypeCategory or TypeBool.
	Type string `json:"type" yaml:"type"`
	// Min and Max bound a number or integer when set, inclusive.
	Min *float64 `json:"min,omitempty" yaml:"min"`
	Max *float64 `json:"max,omitempty" yaml:"max"`
	// Values lists the allowed values of a category, in the order its
	// index encoding uses.
	Values []string `json:"values,omitempty" yaml:"values"`
	// Default, when set, makes the field optional: a record without it
	// gets this value. It must be a value the feature allows (a JSON
	// number, string or bool as Type says).
	Default any `json:"default,omitempty" yaml:"default"`
	// Description says what the field means, for the API's documentation.
	Description string `json:"description,omitempty" yaml:"description"`
	// Input names the model input the feature feeds; empty means the
	// model's only input. An input of the feature's own has shape [rows]
	// or [rows, 1] and takes the value as its element type.
	Input string `json:"input,omitempty" yaml:"input"`
	// Encoding is EncodeValue (empty means it) or, for a category,
	// EncodeOneHot.
	Encoding string `json:"encoding,omitempty" yaml:"encoding"`
	// Position is the feature's first column in a row of Input, for an
	// input of shape [rows, columns].
	Position int `json:"position" yaml:"position"`
}

// Schema is a version's records schema: what publish --schema reads and
// the manifest keeps (Manifest.Features, Classes and UnknownFields).
type Schema struct {
	// Features are the named fields of a record, each with where it goes
	// in the model's inputs.
	Features []Feature `json:"features" yaml:"features"`
	// Classes names the classes of a classifier's probabilities, in the
	// order of its output's columns; empty for a regressor or when the
	// classes keep their indices as names.
	Classes []string `json:"classes,omitempty" yaml:"classes"`
	// UnknownFields is UnknownReject (empty means it) or UnknownIgnore.
	UnknownFields string `json:"unknown_fields,omitempty" yaml:"unknown_fields"`
}

// FeatureLayout is where a checked schema's features go in a model's
// inputs. Check builds it; it is not modified afterwards, so it may be
// read concurrently.
type FeatureLayout struct {
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
	// Input is an index into FeatureLayout.Inputs.
	Input int
	// Column is the feature's first column in a row of that input.
	Column int
	// Width is the number of columns it fills: len(Values) for a one-hot
	// category, 1 otherwise.
	Width int
}

// ParseSchema reads a schema file: JSON when its first non-blank
// character is '{', YAML otherwise. Decoding is strict: a key the schema
// does not know is refused, and named. It checks only the syntax; Check
// validates the content. Errors wrap ErrSchema.
func ParseSchema(data []byte) (*Schema, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty file", ErrSchema)
	}
	var s Schema
	if trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return nil, fmt.Errorf("%w: json: %s", ErrSchema, jsonMessage(err))
		}
		if dec.More() {
			return nil, fmt.Errorf("%w: json: data after the schema object", ErrSchema)
		}
		return &s, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	switch err := dec.Decode(&s); {
	case err == io.EOF:
		return nil, fmt.Errorf("%w: yaml: no document, only comments", ErrSchema)
	case err != nil:
		return nil, fmt.Errorf("%w: yaml: %s", ErrSchema, yamlMessage(err))
	}
	if err := dec.Decode(new(yaml.Node)); err != io.EOF {
		return nil, fmt.Errorf("%w: yaml: more than one document", ErrSchema)
	}
	// YAML decodes a whole number into an int: give defaults the JSON
	// kinds the manifest will hold.
	for i := range s.Features {
		switch d := s.Features[i].Default.(type) {
		case int:
			s.Features[i].Default = float64(d)
		case uint64:
			s.Features[i].Default = float64(d)
		}
	}
	return &s, nil
}

// jsonMessage words a JSON decoding error naming the schema's fields
// rather than Go's types.
func jsonMessage(err error) string {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
		return fmt.Sprintf("%s: a %s where %s belongs", te.Field, te.Value, te.Type)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// yamlMessage words a YAML decoding error on one line, naming the
// schema's parts rather than Go's types.
func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	msg = strings.NewReplacer(" in type modelstore.Feature", " in a feature", " in type modelstore.Schema", " in the schema",
		"modelstore.Feature", "a feature", "modelstore.Schema", "a schema (a mapping)").Replace(msg)
	return strings.Join(strings.Fields(msg), " ")
}

// SchemaOf returns the manifest's records schema, or nil when m is nil or
// has no features. The schema shares the manifest's slices.
func (m *Manifest) SchemaOf() *Schema {
	if m == nil || len(m.Features) == 0 {
		return nil
	}
	return &Schema{Features: m.Features, Classes: m.Classes, UnknownFields: m.UnknownFields}
}

// namePattern is what a feature's name must match: a name every client
// language can use as an identifier.
var namePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Check validates s on its own and against sig, the model's signature,
// and returns where each feature goes. Every problem found is reported in
// one error wrapping ErrSchema, each naming its feature (or input, or
// class). sig must not be nil; neither s nor sig is retained.
//
// On its own: names are unique and match ^[A-Za-z_][A-Za-z0-9_]*$; Type
// is one of the four; Min and Max only for numbers and integers, finite,
// Min <= Max; Values required for a category and only for it, unique and
// not empty; Default of the feature's JSON kind (float64 for a number or
// integer, whole for an integer, within Min and Max; a string of Values;
// a bool); Encoding empty, EncodeValue or, for a category, EncodeOneHot;
// Position >= 0; Classes unique and not empty; UnknownFields empty,
// UnknownReject or UnknownIgnore.
//
// Against sig: an empty Input means the model's only input; every input
// is [rows] or [rows, columns] with a dynamic batch dimension and known
// columns; each column of each input is fed by exactly one feature
// ([rows] and [rows, 1] inputs by one feature of width 1); FP32 and FP64
// inputs take any feature, INT64 and INT32 inputs integers, bools and
// value-encoded categories, BOOL inputs bools. With Classes, the model's
// first float output of rows (the one the gate reads) has one column per
// class.
func (s *Schema) Check(sig *engine.Signature) (*FeatureLayout, error) {
	var p problems
	s.checkOwn(&p)
	layout := s.place(sig, &p)
	s.checkClasses(sig, &p)
	if len(p) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrSchema, strings.Join(p, "; "))
	}
	return layout, nil
}

// problems collects the problems Check finds.
type problems []string

func (p *problems) add(format string, a ...any) { *p = append(*p, fmt.Sprintf(format, a...)) }

// label names feature i in a message: by name, or by index when it has
// none.
func (s *Schema) label(i int) string {
	if n := s.Features[i].Name; n != "" {
		return fmt.Sprintf("feature %q", n)
	}
	return fmt.Sprintf("feature %d", i)
}

// checkOwn reports the problems of s that do not depend on the model.
func (s *Schema) checkOwn(p *problems) {
	if len(s.Features) == 0 {
		p.add("no features")
	}
	seen := make(map[string]int, len(s.Features))
	for i := range s.Features {
		f, at := &s.Features[i], s.label(i)
		switch j, dup := seen[f.Name]; {
		case f.Name == "":
			p.add("%s: empty name", at)
		case dup:
			p.add("%s: duplicate name (feature %d has it too)", at, j)
		case !namePattern.MatchString(f.Name):
			p.add("%s: name must match ^[A-Za-z_][A-Za-z0-9_]*$ (letters, digits and _, not starting with a digit)", at)
		}
		if _, dup := seen[f.Name]; !dup {
			seen[f.Name] = i
		}
		switch f.Type {
		case TypeNumber, TypeInteger, TypeCategory, TypeBool:
		default:
			p.add("%s: type %q is not one of number, integer, category, bool", at, f.Type)
		}
		numeric := f.Type == TypeNumber || f.Type == TypeInteger
		if (f.Min != nil || f.Max != nil) && !numeric {
			p.add("%s: min and max apply to number and integer features, not %s", at, f.Type)
		}
		for _, b := range []struct {
			name string
			v    *float64
		}{{"min", f.Min}, {"max", f.Max}} {
			if b.v != nil && (math.IsNaN(*b.v) || math.IsInf(*b.v, 0)) {
				p.add("%s: %s %v is not finite", at, b.name, *b.v)
			}
		}
		if f.Min != nil && f.Max != nil && *f.Min > *f.Max {
			p.add("%s: min %v is greater than max %v", at, *f.Min, *f.Max)
		}
		switch {
		case f.Type == TypeCategory && len(f.Values) == 0:
			p.add("%s: a category needs values, the strings it allows", at)
		case f.Type != TypeCategory && len(f.Values) > 0:
			p.add("%s: values apply to category features only, not %s", at, f.Type)
		}
		values := make(map[string]bool, len(f.Values))
		for j, v := range f.Values {
			switch {
			case v == "":
				p.add("%s: value %d is empty", at, j)
			case values[v]:
				p.add("%s: value %q appears twice", at, v)
			}
			values[v] = true
		}
		if f.Default != nil {
			if msg := checkDefault(f); msg != "" {
				p.add("%s: default %s %s", at, jsonText(f.Default), msg)
			}
		}
		switch f.Encoding {
		case "", EncodeValue:
		case EncodeOneHot:
			if f.Type != TypeCategory {
				p.add("%s: encoding one_hot applies to category features only, not %s", at, f.Type)
			}
		default:
			p.add("%s: encoding %q is not value or one_hot", at, f.Encoding)
		}
		if f.Position < 0 {
			p.add("%s: position %d is negative", at, f.Position)
		}
	}
	classes := make(map[string]bool, len(s.Classes))
	for i, c := range s.Classes {
		switch {
		case c == "":
			p.add("class %d: empty name", i)
		case classes[c]:
			p.add("class %q appears twice", c)
		}
		classes[c] = true
	}
	switch s.UnknownFields {
	case "", UnknownReject, UnknownIgnore:
	default:
		p.add("unknown_fields %q is not reject or ignore", s.UnknownFields)
	}
}

// checkDefault says what is wrong with f's default, or "" when nothing
// is. It words only what follows "default X".
func checkDefault(f *Feature) string {
	switch f.Type {
	case TypeNumber, TypeInteger:
		d, ok := f.Default.(float64)
		switch {
		case !ok:
			return "is not a number"
		case math.IsNaN(d) || math.IsInf(d, 0):
			return "is not finite"
		case f.Type == TypeInteger && d != math.Trunc(d):
			return "is not a whole number"
		case f.Min != nil && d < *f.Min:
			return fmt.Sprintf("is below min %v", *f.Min)
		case f.Max != nil && d > *f.Max:
			return fmt.Sprintf("is above max %v", *f.Max)
		}
	case TypeCategory:
		d, ok := f.Default.(string)
		switch {
		case !ok:
			return "is not a string"
		case !slices.Contains(f.Values, d):
			return "is not one of values"
		}
	case TypeBool:
		if _, ok := f.Default.(bool); !ok {
			return "is not true or false"
		}
	}
	return ""
}

// jsonText writes v as JSON for a message, or with %v when it has no
// JSON form.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// width is the number of columns f fills.
func (f *Feature) width() int {
	if f.Type == TypeCategory && f.Encoding == EncodeOneHot {
		return len(f.Values)
	}
	return 1
}

// place checks the model's inputs and where each feature goes in them,
// and returns the layout (meaningful only when p stays empty).
func (s *Schema) place(sig *engine.Signature, p *problems) *FeatureLayout {
	l := &FeatureLayout{Inputs: make([]InputSlot, len(sig.Inputs)), Features: make([]FeatureSlot, len(s.Features))}
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

// checkClasses reports when s names classes the model's output does not
// have. The output is the one the gate reads (gate.LayoutOf): the first
// FP32 or FP64 output of shape [rows] or [rows, k] with k known.
func (s *Schema) checkClasses(sig *engine.Signature, p *problems) {
	if len(s.Classes) == 0 {
		return
	}
	for _, o := range sig.Outputs {
		if o.DType != engine.FP32 && o.DType != engine.FP64 || len(o.Shape) == 0 || len(o.Shape) > 2 || o.Shape[0] != -1 {
			continue
		}
		k := 1
		if len(o.Shape) == 2 {
			if o.Shape[1] <= 0 {
				continue
			}
			k = int(o.Shape[1])
		}
		if k != len(s.Classes) {
			p.add("classes names %d classes, but the model's output %q of shape %v has %d", len(s.Classes), o.Name, o.Shape, k)
		}
		return
	}
	p.add("classes names %d classes, but the model has no float output of shape [rows, %d] for their probabilities", len(s.Classes), len(s.Classes))
}

package modelstore

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/switchyard-ml/switchyard/engine"
)

// Check validates s on its own and against sig, the model's signature,
// and returns where each feature goes. Every problem found is reported in
// one error wrapping ErrSchema, each naming its feature (or input, or
// class). sig must not be nil; neither s nor sig is retained.
//
// On its own: names are unique and not empty, and hold any character
// but the few that cannot be written safely (fieldNameProblem); Type
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
func (s *Schema) Check(sig *engine.Signature) (*FeaturePlacement, error) {
	var p problems
	s.checkOwn(&p)
	placement := s.place(sig, &p)
	s.checkClasses(sig, &p)
	if len(p) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrSchema, strings.Join(p, "; "))
	}
	return placement, nil
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
		default:
			if msg := fieldNameProblem(f.Name); msg != "" {
				p.add("%s: %s", at, msg)
			}
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

package server

import (
	"fmt"
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// parse is decodeRecords' full decoder: it parses body with p, which the
// caller owns, checks the request's structure, then every field of every
// instance, collecting the problems, and returns decodeRecords' errors.
// It leaves nothing in r that refers to p or body.
func (r *records) parse(p *fastjson.Parser, body []byte, sch *recordSchema) error {
	v, err := parseLenient(p, body)
	if err != nil {
		return httpapi.RequestErrorf("malformed JSON: %v", err)
	}
	o, err := v.Object()
	if err != nil {
		return httpapi.RequestErrorf(`a records request must be a JSON object {"instances": [...]}, not %s`, v.Type())
	}
	list := v.Get("instances")
	if list == nil || o.Len() != 1 {
		return otherMember(o)
	}
	if list.Type() != fastjson.TypeArray {
		return httpapi.RequestErrorf(`"instances" must be an array of objects, not %s`, list.Type())
	}
	instances, _ := list.Array() // cannot fail: list is an array
	switch n := len(instances); {
	case n == 0:
		return httpapi.RequestErrorf(`"instances" must not be empty`)
	case n > MaxInstances:
		return httpapi.RequestErrorf(`"instances" holds %d instances; a request may carry at most %d`, n, MaxInstances)
	}
	for i, inst := range instances {
		if inst.Type() != fastjson.TypeObject {
			return httpapi.RequestErrorf("instances[%d] must be an object, not %s", i, inst.Type())
		}
	}
	r.begin(sch)
	r.addRows(sch, len(instances))
	for i, inst := range instances {
		obj, _ := inst.Object() // cannot fail: checked above
		if err := r.instance(i, obj, sch); err != nil {
			return err
		}
	}
	if len(r.problems) > 0 {
		return newProblemsError(r.problems)
	}
	return nil
}

// otherMember words what is wrong with a request object that does not
// hold "instances" alone.
func otherMember(o *fastjson.Object) error {
	var other []byte
	instances := 0
	o.Visit(func(key []byte, _ *fastjson.Value) {
		switch {
		case string(key) == "instances":
			instances++
		case other == nil:
			other = key
		}
	})
	switch {
	case instances > 1:
		return httpapi.RequestErrorf(`"instances" appears more than once`)
	case other != nil:
		return httpapi.RequestErrorf(`unknown member %q: a records request holds only "instances"`, other)
	}
	return httpapi.RequestErrorf(`missing "instances": a records request is {"instances": [{"field": value, ...}, ...]}`)
}

// instance validates and encodes instance i, the object o. Its only error
// is a field given twice; problems go to r.problems.
func (r *records) instance(i int, o *fastjson.Object, sch *recordSchema) error {
	clear(r.seen)
	hint := 0 // where the next field is looked for first: clients send fields in schema order
	var dup []byte
	o.Visit(func(key []byte, v *fastjson.Value) {
		f := sch.lookup(key, &hint)
		switch {
		case dup != nil:
		case f < 0:
			if !sch.ignoreUnknown {
				r.addf(i, string(key), problemUnknown, "%s is not a field of this model%s", key, sch.hint(string(key)))
			}
		case r.seen[f]:
			dup = key
		case v.Type() != fastjson.TypeNull: // null is absent
			r.seen[f] = true
			r.field(i, f, v, sch)
		}
	})
	if dup != nil {
		return httpapi.RequestErrorf("instances[%d]: field %q appears more than once", i, dup)
	}
	for f := range sch.features {
		if feat := &sch.features[f]; !r.seen[f] && feat.Default == nil {
			r.addf(i, feat.Name, problemMissing, "%s is required", feat.Name)
		}
	}
	r.putDefaults(sch, i)
	return nil
}

// field validates the value v of feature f in instance i and, when it is
// valid, encodes it; otherwise it reports the problem.
func (r *records) field(i, f int, v *fastjson.Value, sch *recordSchema) {
	feat := &sch.features[f]
	dt := sch.dtype(f)
	switch feat.Type {
	case modelstore.TypeNumber, modelstore.TypeInteger:
		what := "a number"
		if feat.Type == modelstore.TypeInteger {
			what = "a whole number"
		}
		if v.Type() != fastjson.TypeNumber {
			r.addf(i, feat.Name, problemType, "%s must be %s, not %s", feat.Name, what, valueText(v))
			return
		}
		r.num = v.MarshalTo(r.num[:0])
		num, ok := scanNumber(r.num)
		switch {
		case !ok && nonFiniteText(r.num): // NaN or an infinity: see parseLenient
			r.addf(i, feat.Name, problemNotFinite, "%s %s is not a finite number", feat.Name, numberWord(r.num))
			return
		case !ok: // and forms such as 01 or +1
			r.addf(i, feat.Name, problemType, "%s %s is not a valid JSON number", feat.Name, r.num)
			return
		}
		var (
			c   cell
			why fault
		)
		if feat.Type == modelstore.TypeNumber {
			c, why = numberCell(feat, &num, r.num, dt)
		} else {
			c, why = integerCell(feat, &num, dt)
		}
		if why != faultNone {
			r.report(i, feat, why, r.num, dt)
			return
		}
		r.put(sch, i, f, c)
	case modelstore.TypeBool:
		switch v.Type() {
		case fastjson.TypeTrue, fastjson.TypeFalse:
			r.put(sch, i, f, boolCell(v.Type() == fastjson.TypeTrue))
		default:
			r.addf(i, feat.Name, problemType, "%s must be true or false, not %s", feat.Name, valueText(v))
		}
	case modelstore.TypeCategory:
		if v.Type() != fastjson.TypeString {
			r.addf(i, feat.Name, problemType, "%s must be a string, one of %s; not %s", feat.Name, valueList(feat.Values), valueText(v))
			return
		}
		s, _ := v.StringBytes() // cannot fail: v is a string
		k := categoryIndex(feat, s)
		if k < 0 {
			r.addf(i, feat.Name, problemNotAllowed, "%s %s is not one of %s", feat.Name, valueText(v), valueList(feat.Values))
			return
		}
		r.put(sch, i, f, intCell(int64(k)))
	default:
		panic(fmt.Sprintf("BUG: feature %q has type %q, which Schema.Check refuses", feat.Name, feat.Type))
	}
}

// report words the fault of the number raw, the value of feat in
// instance i, which feeds an input of type dt.
func (r *records) report(i int, feat *modelstore.Feature, why fault, raw []byte, dt engine.DType) {
	name := feat.Name
	switch why {
	case faultNotWhole:
		r.addf(i, name, problemType, "%s must be a whole number, not %s", name, raw)
	case faultBelow:
		r.addf(i, name, problemRange, "%s %s is below the minimum %s", name, raw, formatBound(*feat.Min))
	case faultAbove:
		r.addf(i, name, problemRange, "%s %s is above the maximum %s", name, raw, formatBound(*feat.Max))
	case faultInt64:
		r.addf(i, name, problemRange, "%s %s is beyond the range of 64-bit integers", name, raw)
	case faultInt32:
		r.addf(i, name, problemRange, "%s %s is beyond the range of INT32, the type of the model's input", name, raw)
	case faultFloat:
		if dt == engine.FP32 {
			r.addf(i, name, problemNotFinite, "%s %s is beyond the range of FP32, the type of the model's input", name, raw)
		} else {
			r.addf(i, name, problemNotFinite, "%s %s is not a finite number", name, raw)
		}
	default:
		panic(fmt.Sprintf("BUG: fault %d of feature %q", why, name))
	}
}

func formatBound(b float64) string { return strconv.FormatFloat(b, 'g', -1, 64) }

// maxValueText is how much of a client's value a message quotes.
const maxValueText = 64

// valueText is the JSON text of v for a message, cut short when long; a
// NaN or an infinity is named as numberWord names it.
func valueText(v *fastjson.Value) string {
	b := v.MarshalTo(nil)
	if v.Type() == fastjson.TypeNumber && nonFiniteText(b) {
		return numberWord(b)
	}
	if len(b) > maxValueText {
		return string(b[:maxValueText]) + "…"
	}
	return string(b)
}

// maxListedValues is how many of a category's values a message lists.
const maxListedValues = 20

// valueList words a category's values for a message: FR, DE, US.
func valueList(values []string) string {
	var b []byte
	for k, v := range values {
		if k == maxListedValues {
			b = fmt.Appendf(b, ", … (%d values)", len(values))
			break
		}
		if k > 0 {
			b = append(b, ", "...)
		}
		b = append(b, v...)
	}
	return string(b)
}

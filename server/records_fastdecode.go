package server

import "github.com/switchyard-ml/switchyard/modelstore"

// fastRecords decodes the common shape of a records request in one pass
// over body, without building a JSON tree: {"instances": [{...}, ...]}
// whose instances are valid, give each field the schema names at most
// once, in any order, with keys and strings written without escapes. It
// reports whether it decoded body completely; on false r holds garbage
// and the caller decodes body again with parse, which handles everything
// else (unknown fields among them, even ignored ones) and words every
// problem. So fastRecords may decline anything, but must never accept
// what parse would refuse or decode differently (FuzzDecodeRecords
// checks).
func fastRecords(body []byte, sch *recordSchema, r *records) bool {
	s := scanner{b: body}
	if !s.byte('{') {
		return false
	}
	if key, done, ok := s.member(true); !ok || done || string(key) != "instances" {
		return false
	}
	if !s.byte('[') || s.byte(']') {
		return false // not an array, or empty
	}
	r.begin(sch)
	for {
		if r.rows == MaxInstances {
			return false
		}
		r.addRows(sch, 1)
		if !fastInstance(&s, sch, r, r.rows-1) {
			return false
		}
		if s.byte(']') {
			break
		}
		if !s.byte(',') {
			return false
		}
	}
	if !s.byte('}') {
		return false
	}
	s.space()
	return s.i == len(s.b)
}

// fastInstance decodes instance i, the object at s, into its row.
func fastInstance(s *scanner, sch *recordSchema, r *records, i int) bool {
	if !s.byte('{') {
		return false
	}
	clear(r.seen)
	hint := 0
	for first := true; ; first = false {
		key, done, ok := s.member(first)
		if !ok {
			return false
		}
		if done {
			break
		}
		f := sch.lookup(key, &hint)
		if f < 0 || r.seen[f] {
			return false // unknown or repeated: parse decides
		}
		s.space()
		if s.literal("null") {
			continue // absent
		}
		if !fastField(s, sch, r, i, f) {
			return false
		}
		r.seen[f] = true
	}
	return r.putDefaults(sch, i)
}

// fastField decodes the value at s of feature f in instance i, when it is
// valid, into its row.
func fastField(s *scanner, sch *recordSchema, r *records, i, f int) bool {
	feat := &sch.features[f]
	var c cell
	switch feat.Type {
	case modelstore.TypeNumber, modelstore.TypeInteger:
		num, end, ok := scanNumberPrefix(s.b[s.i:])
		if !ok {
			return false
		}
		var why fault
		if feat.Type == modelstore.TypeNumber {
			c, why = numberCell(feat, &num, s.b[s.i:s.i+end], sch.dtype(f))
		} else {
			c, why = integerCell(feat, &num, sch.dtype(f))
		}
		if why != faultNone {
			return false
		}
		s.i += end
	case modelstore.TypeBool:
		switch {
		case s.literal("true"):
			c = boolCell(true)
		case s.literal("false"):
			c = boolCell(false)
		default:
			return false
		}
	case modelstore.TypeCategory:
		v, ok := s.string()
		k := categoryIndex(feat, v)
		if !ok || k < 0 {
			return false
		}
		c = intCell(int64(k))
	default:
		return false
	}
	r.put(sch, i, f, c)
	return true
}

package server

import (
	"encoding/binary"
	"math"

	"github.com/switchyard-ml/switchyard/engine"
)

// fastDecode decodes the common shape of a V2 request in one pass over
// body, without building a JSON tree: an object with "inputs" (each with
// "name", "datatype", "shape" and a flat "data" array, in any order) and
// optionally an "id" without escapes. It reports whether it decoded body
// completely; on false r holds garbage and the caller decodes body again
// with decodeParsed, which handles everything else and words every error.
// So fastDecode may decline anything, but must never accept what
// decodeParsed would refuse or decode differently (FuzzFastDecode checks).
func fastDecode(body []byte, sig *engine.Signature, r *inferRequest) bool {
	s := scanner{b: body}
	if !s.byte('{') {
		return false
	}
	seenInputs, seenID := false, false
	for first := true; ; first = false {
		key, done, ok := s.member(first)
		if !ok {
			return false
		}
		if done {
			break
		}
		switch string(key) {
		case "inputs":
			if seenInputs || !fastInputs(&s, sig, r) {
				return false
			}
			seenInputs = true
		case "id":
			id, ok := s.string()
			if seenID || !ok {
				return false
			}
			seenID = true
			r.idBuf = append(r.idBuf[:0], id...)
			if r.idBuf == nil {
				r.idBuf = []byte{} // "id":"" is present, not absent
			}
			r.id = r.idBuf
		default: // "outputs", "parameters", anything else: the full decoder's
			return false
		}
	}
	s.space()
	if !seenInputs || s.i != len(s.b) {
		return false
	}
	r.outputs = withLen(r.outputs, len(sig.Outputs))
	for j := range r.outputs {
		r.outputs[j] = true
	}
	return true
}

// fastInputs decodes the "inputs" array.
func fastInputs(s *scanner, sig *engine.Signature, r *inferRequest) bool {
	if !s.byte('[') || s.byte(']') {
		return false // not an array, or empty
	}
	r.inputs = withLen(r.inputs, len(sig.Inputs))
	for {
		if !fastInput(s, sig, r) {
			return false
		}
		if s.byte(']') {
			break
		}
		if !s.byte(',') {
			return false
		}
	}
	for i := range r.inputs {
		if r.inputs[i].DType == engine.DTypeInvalid {
			return false // missing input
		}
	}
	return true
}

// fastInput decodes one input object. The data is decoded where it stands
// when the name came first, as clients write it; otherwise it is skipped and
// decoded once the name is known.
func fastInput(s *scanner, sig *engine.Signature, r *inferRequest) bool {
	if !s.byte('{') {
		return false
	}
	var (
		name, dtype  []byte
		shape        []int64
		info         *engine.TensorInfo
		t            *engine.Tensor
		d            dataDecoder
		dataStart    = -1
		dataEnd      int
		decoded      bool
		seenShape    bool
		seenDatatype bool
	)
	for first := true; ; first = false {
		key, done, ok := s.member(first)
		if !ok {
			return false
		}
		if done {
			break
		}
		switch string(key) {
		case "name":
			if name != nil {
				return false
			}
			if name, ok = s.string(); !ok || name == nil {
				return false
			}
			i := inputIndex(sig, name)
			if i < 0 || r.inputs[i].DType != engine.DTypeInvalid {
				return false // unknown, or repeated
			}
			info, t = &sig.Inputs[i], &r.inputs[i]
			t.Name, t.DType = info.Name, info.DType
			d = dataDecoder{req: r, name: info.Name, dt: info.DType, buf: t.Data[:0]}
		case "datatype":
			if seenDatatype {
				return false
			}
			seenDatatype = true
			if dtype, ok = s.string(); !ok {
				return false
			}
		case "shape":
			if seenShape {
				return false
			}
			seenShape = true
			shape, ok = s.shape(r.shapeBuf[:0])
			r.shapeBuf = shape[:0] // keep the capacity, even if we give up
			if !ok {
				return false
			}
		case "data":
			if decoded || dataStart >= 0 {
				return false
			}
			s.space()
			if info != nil {
				ok = fastArray(&d, s, 0)
				t.Data = d.buf
				if !ok {
					return false
				}
				decoded = true
				break
			}
			dataStart = s.i
			if !s.skipArray() {
				return false
			}
			dataEnd = s.i
		default:
			return false
		}
	}
	if info == nil || !seenDatatype || !seenShape || !decoded && dataStart < 0 {
		return false
	}
	if string(dtype) != info.DType.String() || !engine.ShapeFits(shape, info.Shape) {
		return false
	}
	if !decoded {
		ds := scanner{b: s.b[dataStart:dataEnd]}
		ok := fastArray(&d, &ds, 0)
		t.Data = d.buf
		if !ok {
			return false
		}
	}
	n := 1
	for _, dim := range shape {
		if dim == 0 || dim > int64(len(s.b)) {
			return false // an empty or impossible shape: the full decoder words it
		}
		if n *= int(dim); n > len(s.b) {
			return false
		}
	}
	t.Shape = append(t.Shape[:0], shape...)
	return d.n == n
}

// fastArray decodes an array of numbers (or true/false for BOOL), nested
// arrays flattened row-major, appending the elements to d.
func fastArray(d *dataDecoder, s *scanner, depth int) bool {
	if depth == maxDepth || !s.byte('[') {
		return false
	}
	if s.byte(']') {
		return true
	}
	for {
		s.space()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case '[':
			if !fastArray(d, s, depth+1) {
				return false
			}
		case 't', 'f':
			v := byte(0)
			switch {
			case s.literal("true"):
				v = 1
			case !s.literal("false"):
				return false
			}
			if d.dt != engine.BOOL {
				return false
			}
			d.buf = append(d.buf, v)
			d.n++
		default:
			num, end, ok := scanNumberPrefix(s.b[s.i:])
			if !ok {
				return false
			}
			raw := s.b[s.i : s.i+end]
			if d.dt == engine.FP32 { // the common case, as appendScanned does it
				f, ok := num.float32(raw)
				if !ok {
					return false
				}
				d.buf = binary.LittleEndian.AppendUint32(d.buf, math.Float32bits(f))
			} else if d.appendScanned(num, raw) != nil {
				return false
			}
			s.i += end
			d.n++
		}
		if s.byte(']') {
			return true
		}
		if !s.byte(',') {
			return false
		}
	}
}

// scanner reads JSON tokens from b, from position i on. Every method skips
// the whitespace before its token and, on a mismatch, reports false without
// guaranteeing where i is left: callers give up on the whole body.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// byte consumes c if it is the next token.
func (s *scanner) byte(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// member reads the key and colon of an object's next member, the object's
// '{' having been read; first says whether it is the first member. At the
// closing '}' it reports done.
func (s *scanner) member(first bool) (key []byte, done, ok bool) {
	if s.byte('}') {
		return nil, true, true
	}
	if !first && !s.byte(',') {
		return nil, false, false
	}
	key, ok = s.string()
	return key, false, ok && s.byte(':')
}

// literal consumes lit (true or false) if it comes next.
func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// string consumes a string without escapes or control characters and
// returns its contents, aliasing b; an empty string is empty, not nil.
func (s *scanner) string() ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1 : s.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// number consumes the characters a JSON number may hold and returns them,
// or nil; the caller validates them with scanNumber.
func (s *scanner) number() []byte {
	start := s.i
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case '0' <= c && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			s.i++
			continue
		}
		break
	}
	if s.i == start {
		return nil
	}
	return s.b[start:s.i]
}

// shape consumes an array of non-negative integers written plainly (no
// fraction, exponent or leading zeros), appending them to dims.
func (s *scanner) shape(dims []int64) ([]int64, bool) {
	if !s.byte('[') {
		return dims, false
	}
	if s.byte(']') {
		return dims, true
	}
	for {
		s.space()
		raw := s.number()
		if len(raw) == 0 || len(raw) > 18 || (raw[0] == '0' && len(raw) > 1) {
			return dims, false
		}
		var d int64
		for _, c := range raw {
			if c < '0' || c > '9' {
				return dims, false
			}
			d = d*10 + int64(c-'0')
		}
		dims = append(dims, d)
		if s.byte(']') {
			return dims, true
		}
		if !s.byte(',') {
			return dims, false
		}
	}
}

// maxDepth bounds the nesting of "data" arrays the fast path accepts.
const maxDepth = 32

// skipArray consumes an array, possibly of nested arrays, that holds no
// objects or strings; fastData checks its contents.
func (s *scanner) skipArray() bool {
	if !s.byte('[') {
		return false
	}
	depth := 1
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '[':
			if depth++; depth > maxDepth {
				return false
			}
		case ']':
			if depth--; depth == 0 {
				s.i++
				return true
			}
		case '{', '"':
			return false
		}
		s.i++
	}
	return false
}

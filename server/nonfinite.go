package server

import (
	"bytes"

	"github.com/valyala/fastjson"
)

// JSON has no NaN or infinities, but Python's json.dumps writes them as
// the bare tokens NaN, Infinity and -Infinity. fastjson reads NaN, Inf and
// -Inf (in any case) as numbers, which the decoders then refuse by name,
// but it stops inside Infinity and calls the whole body malformed. So the
// full decoders parse with parseLenient, which reads Infinity as Inf, and
// name every such token with numberWord.

// parseLenient parses body with p, as p.ParseBytes does, except that a
// bare Infinity or -Infinity where a value may stand reads as the number
// Inf or -Inf. Only a body fastjson refuses is looked at again, so a valid
// body costs nothing more. The result is valid until p is reused or put
// back; p keeps its own copy of the text, so body may change meanwhile.
func parseLenient(p *fastjson.Parser, body []byte) (*fastjson.Value, error) {
	v, err := p.ParseBytes(body)
	if err == nil {
		return v, nil
	}
	spelled := spellInfinity(body)
	if spelled == nil {
		return nil, err
	}
	return p.ParseBytes(spelled) // its error, if any, is about what else is wrong
}

const (
	infinityToken = "Infinity"
	infSpelling   = "Inf     " // as long as infinityToken, so nothing moves
)

// spellInfinity returns a copy of body in which every bare Infinity token
// outside strings, standing alone or after a minus sign, reads Inf
// followed by spaces, or nil when body holds none.
func spellInfinity(body []byte) []byte {
	if !bytes.Contains(body, []byte(infinityToken)) {
		return nil
	}
	var out []byte
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '"':
			i = stringEnd(body, i)
		case 'I':
			end := i + len(infinityToken)
			if !bytes.HasPrefix(body[i:], []byte(infinityToken)) || i > 0 && !valueStart(body[i-1]) ||
				end < len(body) && !valueEnd(body[end]) {
				continue
			}
			if out == nil {
				out = bytes.Clone(body)
			}
			copy(out[i:], infSpelling)
			i = end - 1
		}
	}
	return out
}

// stringEnd returns the index of the quote that closes the string opening
// at body[i], or len(body) when it is not closed.
func stringEnd(body []byte, i int) int {
	for i++; i < len(body); i++ {
		switch body[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(body)
}

// valueStart reports whether c may come right before a value's token.
func valueStart(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ':', ',', '[', '-':
		return true
	}
	return false
}

// valueEnd reports whether c may come right after a value's token.
func valueEnd(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ']', '}':
		return true
	}
	return false
}

// nonFiniteText reports whether raw, which fastjson read as a number, is
// NaN or an infinity.
func nonFiniteText(raw []byte) bool {
	for _, c := range raw {
		switch c | 0x20 { // lower case
		case 'n', 'i':
			return true
		}
	}
	return false
}

// numberWord is raw, a number as fastjson read it, as a message quotes
// it: NaN, Infinity or -Infinity when nonFiniteText(raw), spelled as
// Python writes them (fastjson's Inf may have been Infinity, see
// parseLenient), or else raw itself.
func numberWord(raw []byte) string {
	switch {
	case !nonFiniteText(raw):
		return string(raw)
	case bytes.ContainsAny(raw, "aA"):
		return "NaN"
	case raw[0] == '-':
		return "-Infinity"
	}
	return "Infinity"
}

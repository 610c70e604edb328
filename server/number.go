package server

import (
	"math"
	"strconv"
)

// jsonNumber is a JSON number split into decimal parts: unless trunc, its
// value is mant × 10^exp, negated when neg.
type jsonNumber struct {
	mant  uint64 // the first 19 significant digits at most
	exp   int
	nd    int  // significant digits in mant
	neg   bool // the number has a minus sign (it may still be zero)
	trunc bool // a nonzero digit after the 19th significant one was dropped
}

// scanNumber parses raw, which must follow the JSON number grammar exactly
// (RFC 8259, section 6): it rejects what fastjson lets through, such as NaN,
// Inf, "+1", "01", "1." and ".5".
func scanNumber(raw []byte) (jsonNumber, bool) {
	n, end, ok := scanNumberPrefix(raw)
	return n, ok && end == len(raw)
}

// scanNumberPrefix parses the JSON number at the start of raw and returns
// it with the length of its text; whatever follows is left to the caller.
func scanNumberPrefix(raw []byte) (jsonNumber, int, bool) {
	var (
		mant  uint64
		exp   int
		nd    int
		trunc bool
		neg   bool
	)
	i := 0
	if i < len(raw) && raw[i] == '-' {
		neg = true
		i++
	}
	switch {
	case i < len(raw) && raw[i] == '0':
		i++
	case i < len(raw) && '1' <= raw[i] && raw[i] <= '9':
		for ; i < len(raw); i++ {
			c := raw[i] - '0'
			if c > 9 {
				break
			}
			if nd < 19 { // every digit is significant after a leading 1-9
				mant = mant*10 + uint64(c)
				nd++
			} else {
				exp++ // the dropped digit still scales the integer part
				trunc = trunc || c != 0
			}
		}
	default:
		return jsonNumber{}, 0, false
	}
	if i < len(raw) && raw[i] == '.' {
		i++
		start := i
		for ; i < len(raw); i++ {
			c := raw[i] - '0'
			if c > 9 {
				break
			}
			if nd < 19 {
				mant = mant*10 + uint64(c)
				exp--
				if mant != 0 { // zeros before the first nonzero digit are not significant
					nd++
				}
			} else {
				trunc = trunc || c != 0
			}
		}
		if i == start {
			return jsonNumber{}, 0, false
		}
	}
	if i < len(raw) && (raw[i] == 'e' || raw[i] == 'E') {
		i++
		eneg := false
		if i < len(raw) && (raw[i] == '+' || raw[i] == '-') {
			eneg = raw[i] == '-'
			i++
		}
		start := i
		e := 0
		for ; i < len(raw) && isDigit(raw[i]); i++ {
			if e < 1e6 { // beyond any float's range; stop before e overflows
				e = e*10 + int(raw[i]-'0')
			}
		}
		if i == start {
			return jsonNumber{}, 0, false
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	return jsonNumber{mant: mant, exp: exp, nd: nd, neg: neg, trunc: trunc}, i, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// float64pow10 are the powers of ten a float64 holds exactly.
var float64pow10 = [...]float64{
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
}

// exact returns the correctly rounded float64 value of n when one IEEE
// operation on exact operands yields it (Clinger's fast path): a mantissa of
// at most 53 bits and a power of ten float64 holds exactly. Such values lie in
// [1e-22, 2^53·1e22], well inside float32's normal range too.
func (n *jsonNumber) exact() (float64, bool) {
	if n.trunc || n.mant > 1<<53 || n.exp < -22 || n.exp > 22 {
		return 0, false
	}
	f := float64(n.mant)
	if n.exp < 0 {
		f /= float64pow10[-n.exp]
	} else {
		f *= float64pow10[n.exp]
	}
	if n.neg {
		f = -f
	}
	return f, true
}

// float64 returns n rounded to the nearest float64, or false when it is too
// large for one. raw is n's text.
func (n *jsonNumber) float64(raw []byte) (float64, bool) {
	if f, ok := n.exact(); ok {
		return f, true
	}
	// string(raw) of at most 32 bytes stays on the stack.
	f, err := strconv.ParseFloat(string(raw), 64)
	return f, err == nil // raw is valid, so the only error is ErrRange with ±Inf
}

// float32 returns n rounded to the nearest float32, or false when it is too
// large for one. raw is n's text.
func (n *jsonNumber) float32(raw []byte) (float32, bool) {
	// Rounding the exact float64 to float32 rounds twice, which errs only when
	// the float64 falls exactly halfway between two float32s.
	if f, ok := n.exact(); ok && math.Float64bits(f)&(1<<29-1) != 1<<28 {
		return float32(f), true
	}
	f, err := strconv.ParseFloat(string(raw), 32)
	return float32(f), err == nil
}

// numStatus says whether a jsonNumber is an int64.
type numStatus uint8

const (
	numOK         numStatus = iota
	numFraction             // not an integer
	numOutOfRange           // an integer beyond int64
)

// uint64pow10 are the powers of ten a uint64 holds.
var uint64pow10 = [...]uint64{
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
}

// int64 returns n's value exactly when it is an integer that fits an int64,
// whether written as 3, 3.0 or 0.3e1. Otherwise it says numFraction for a
// number with a fractional part, and numOutOfRange for an integer beyond
// int64; a number beyond int64 with a fractional part may get either.
func (n *jsonNumber) int64() (int64, numStatus) {
	if n.mant == 0 {
		return 0, numOK // trunc needs a nonzero digit in mant first
	}
	if n.trunc { // a nonzero digit below the 19 kept ones, so mant >= 10^18
		if n.exp > 0 {
			return 0, numOutOfRange // at least 10^19, whether an integer or not
		}
		return 0, numFraction // the dropped digit is after the point
	}
	m := n.mant
	if n.exp < 0 {
		if -n.exp >= len(uint64pow10) { // m < 10^19 <= 10^-exp
			return 0, numFraction
		}
		p := uint64pow10[-n.exp]
		if m%p != 0 {
			return 0, numFraction
		}
		m /= p
	}
	for e := n.exp; e > 0; e-- {
		if m > math.MaxUint64/10 {
			return 0, numOutOfRange
		}
		m *= 10
	}
	if n.neg {
		if m > 1<<63 {
			return 0, numOutOfRange
		}
		return -int64(m), numOK // m == 1<<63 wraps to math.MinInt64, as it should
	}
	if m > math.MaxInt64 {
		return 0, numOutOfRange
	}
	return int64(m), numOK
}

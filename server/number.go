package server

import (
	"encoding/binary"
	"math"
	"math/bits"
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
		// Every digit is significant after a leading 1-9: take them 8 at a
		// time while they surely fit in the 19 kept, then one by one.
		mant, nd, i = digitRuns(raw, i, mant, nd)
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
		if mant == 0 { // zeros before the first nonzero digit are not significant
			for ; i < len(raw) && raw[i] == '0'; i++ {
				exp--
			}
		}
		// Now mant != 0 or the next digit, if any, is nonzero: every digit
		// is significant, as in the integer part.
		from := i
		mant, nd, i = digitRuns(raw, i, mant, nd)
		exp -= i - from
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

// digitRuns adds the significant digits at raw[i:] to mant, 8 at a time
// while they surely fit in the 19 kept and 8 bytes are left, and returns
// mant, the count of significant digits nd and the index i after them; the
// caller takes whatever digits remain one by one.
func digitRuns(raw []byte, i int, mant uint64, nd int) (uint64, int, int) {
	for nd <= 19-8 && len(raw)-i >= 8 {
		v, k := digits8(raw[i:])
		mant = mant*uint64pow10[k] + v
		nd += k
		i += k
		if k < 8 {
			break
		}
	}
	return mant, nd, i
}

// digits8 looks at the first 8 bytes of b, which must have them, and returns
// how many of those come before the first byte that is not a digit (k, 0 to
// 8) and the value of those k digits (v < 10^k), with a few word operations
// instead of a loop (SWAR, as in simdjson and fast_float).
func digits8(b []byte) (v uint64, k int) {
	w := binary.LittleEndian.Uint64(b) // b[0] in the low byte
	x := w ^ 0x3030303030303030        // each digit byte becomes 0 to 9
	// A byte of x above 9 gets its top bit set by adding 0x76 (0x0A+0x76 =
	// 0x80), unless it had the top bit already, which the OR keeps. Adding
	// can carry out of a byte only from one with its top bit set, so into
	// bytes after the first non-digit, which do not matter.
	nondigit := ((x + 0x7676767676767676) | x) & 0x8080808080808080
	k = bits.TrailingZeros64(nondigit) / 8 // 8 when all are digits
	if k == 0 {
		return 0, 0
	}
	// Shift the k digits to the top bytes: the bytes shifted in are 0, so
	// they read as leading zeros of an 8-digit number.
	x <<= 64 - 8*uint(k)
	// Combine adjacent digits into 2-, then 4-, then 8-digit numbers; byte
	// 0 holds the most significant digit.
	x = (x*10 + x>>8) & 0x00FF00FF00FF00FF     // pairs, 0 to 99, in 16-bit lanes
	x = (x*100 + x>>16) & 0x0000FFFF0000FFFF   // quads, 0 to 9999, in 32-bit lanes
	x = (x*10000 + x>>32) & 0x00000000FFFFFFFF // all 8
	return x, k
}

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

// float64pow10neg are the negative powers of ten, each rounded to the
// nearest float64.
var float64pow10neg = [...]float64{
	1e-0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11,
	1e-12, 1e-13, 1e-14, 1e-15, 1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22,
}

// float32 returns n rounded to the nearest float32, or false when it is too
// large for one. raw is n's text.
func (n *jsonNumber) float32(raw []byte) (float32, bool) {
	if n.exp >= -22 && n.exp <= 22 {
		// f is n's value x up to four relative errors, each below 2^-53 and
		// one far below: rounding mant to a float64, rounding 10^exp (for
		// exp < 0, multiplying being much faster than dividing), rounding
		// the product, and the digits after the 19th that trunc dropped
		// (under 1e-18 < 2^-59, mant being at least 1e18 then). So
		// |f-x| < 3.02·2^-53·x, under 3.02 ulps of x's binade and 6.04 of
		// the binade below: at most 7 float64s lie between x and f.
		// float32(f) is float32(x) unless a float32 halfway point, which is
		// a float64 with the low 29 bits 1<<28, lies between them (or is x
		// or f); then f's low 29 bits are within 7 of 1<<28 and strconv
		// decides. x >= 1e-22 is far above float32's subnormals.
		f := float64(n.mant)
		if n.exp < 0 {
			f *= float64pow10neg[-n.exp]
		} else {
			f *= float64pow10[n.exp]
		}
		const half, margin = 1 << 28, 16
		// The overflow threshold, halfway between MaxFloat32 and 2^128, is a
		// halfway point too: f is below it just when x is.
		if low := math.Float64bits(f) & (1<<29 - 1); low-(half-margin) > 2*margin && f < 0x1.ffffffp127 {
			f32 := float32(f)
			if n.neg {
				f32 = -f32
			}
			return f32, true
		}
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

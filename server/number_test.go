package server

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestDigits8(t *testing.T) {
	for _, s := range []string{
		"00000000", "12345678", "99999999", "1234567,", "0.123456", "]]}]}   ", "9/:0 e-+",
		"1234567\xb9", "\xff2345678", "1\x002345678", "7\xfa\xff\xff\xff\xff\xff\xff",
	} {
		k, v := 0, uint64(0)
		for k < 8 && isDigit(s[k]) {
			v = v*10 + uint64(s[k]-'0')
			k++
		}
		if gv, gk := digits8([]byte(s)); gv != v || gk != k {
			t.Errorf("digits8(%q) = %d, %d; want %d, %d", s, gv, gk, v, k)
		}
	}
}

// numberCases are numbers whose digits fall on either side of the 8-byte
// words digits8 reads, with many digits, leading zeros, exponents, and
// float32 halfway points.
var numberCases = []string{
	"0", "-0", "0.5", "-0.0", "0.0000000", "0.00000000", "0.000000001", "1", "12345678", "123456789",
	"1234567890123456", "12345678901234567", "1234567890123456789", "12345678901234567890",
	"12345678901234567891", "123456789012345678901234567890", "0.12345678", "0.123456789",
	"0.1234567890123456789", "0.12345678901234567891", "0.00000000012345678901234567891",
	"-0.07590965", "0.034545645", "-1.0987586", "-0.075909651815891266", "0.097238659858703613",
	"1.0000000000000000000000001", "99999999.99999999", "1e10", "1E-10", "1.5e+30", "-1.5e-30",
	"1.17549435e-38", "3.4028235e38", "3.4028236e38", "3.40282357e38", "3.4028235677973366e38",
	"3.4028235677973367e38", "1e39", "7e-46", "1e-46", "16777217", "16777216.5", "16777217.0000000001",
	"33554435", "0.000000059604644775390625", "1.00000005960464477539062500001",
	"1.000000059604644775390625", "1.00000005960464477539062499999", "1.0000001788139343",
	"8388608.5", "8388609.5", "4294967808", "4294967807.9999999999", "1e-22", "1e22", "9.999999e21",
	"12345678.5e-7",
}

var badNumberCases = []string{
	"", "-", "01", "-01", "00", "00.5", "1.", ".5", "+1", "1e", "1e+", "1.e5", "0x10", "1_000", "NaN",
	"-Inf", "--1", "0.12345678.9", "123456789012.", "-.5", "1e5.5", "1E--5",
}

func TestNumberCases(t *testing.T) {
	for _, s := range numberCases {
		for _, s := range []string{s, strings.ReplaceAll(s, "e", "E")} {
			n, ok := scanNumber([]byte(s))
			if !ok {
				t.Errorf("scanNumber(%q) fails", s)
				continue
			}
			checkPadded(t, s, n)
			f, ok := n.float32([]byte(s))
			w, err := strconv.ParseFloat(s, 32)
			if ok != (err == nil) || ok && math.Float32bits(f) != math.Float32bits(float32(w)) {
				t.Errorf("float32(%q) = %v, %t; strconv says %v, %v", s, f, ok, float32(w), err)
			}
		}
	}
	for _, s := range badNumberCases {
		if n, ok := scanNumber([]byte(s)); ok {
			t.Errorf("scanNumber(%q) = %+v, true; want false", s, n)
		}
	}
	if _, ok := scanNumber([]byte("-0")); !ok {
		t.Fatal("-0")
	}
	n, _ := scanNumber([]byte("-0"))
	if f, _ := n.float32(nil); !math.Signbit(float64(f)) || f != 0 {
		t.Errorf("float32(-0) = %v; want -0", f)
	}
}

// checkPadded checks that s, followed by what may follow a number in an
// array, scans as s alone does: with room after it, digits8 reads it.
func checkPadded(t *testing.T, s string, want jsonNumber) {
	t.Helper()
	for _, pad := range []string{",", "]", ",1234567890", "]]}]}", "        ", "x9999999"} {
		n, end, ok := scanNumberPrefix([]byte(s + pad))
		if !ok || end != len(s) || n != want {
			t.Errorf("scanNumberPrefix(%q) = %+v, %d, %t; want %+v, %d", s+pad, n, end, ok, want, len(s))
		}
	}
}

// TestFloat32Halfway checks numbers at and next to the halfway points
// between float32s, where rounding the float64 again would err.
func TestFloat32Halfway(t *testing.T) {
	for _, v := range []float32{1, 1.5, 0.1, 3.14159, 16777216, 1e-20, 1e20, 123.456, math.MaxFloat32 / 2} {
		next := math.Nextafter32(v, float32(math.Inf(1)))
		mid := (float64(v) + float64(next)) / 2
		for _, d := range []float64{mid, math.Nextafter(mid, 0), math.Nextafter(mid, math.Inf(1))} {
			for _, prec := range []int{-1, 17, 25} {
				s := strconv.FormatFloat(d, 'g', prec, 64)
				n, ok := scanNumber([]byte(s))
				if !ok {
					t.Fatalf("scanNumber(%q) fails", s)
				}
				f, ok := n.float32([]byte(s))
				w, err := strconv.ParseFloat(s, 32)
				if ok != (err == nil) || ok && math.Float32bits(f) != math.Float32bits(float32(w)) {
					t.Errorf("float32(%q) = %v, %t; strconv says %v, %v", s, f, ok, float32(w), err)
				}
			}
		}
	}
}

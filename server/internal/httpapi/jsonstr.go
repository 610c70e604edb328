package httpapi

import "unicode/utf8"

// AppendJSONString appends s to dst as a quoted JSON string and returns the
// extended slice. Unlike strconv.AppendQuote it writes only escapes JSON
// defines: '"' and '\\' are backslash-escaped, control characters become \b,
// \f, \n, \r, \t or \u00XX, and U+2028 and U+2029 are escaped as encoding/json
// does. Valid UTF-8 is copied as it is and each invalid byte becomes \ufffd.
// The output equals encoding/json's with HTML escaping turned off. It
// allocates only when dst lacks capacity.
//
// It is not inlined: called from another package, an inlined call to the
// generic quoter would lose the escape analysis that keeps s on the
// caller's stack.
//
//go:noinline
func AppendJSONString(dst []byte, s string) []byte {
	return appendJSONQuoted(dst, s)
}

// AppendJSONBytes is AppendJSONString for a byte slice, so that callers
// holding bytes need no string conversion. It is not inlined, for the
// reason AppendJSONString is not.
//
//go:noinline
func AppendJSONBytes(dst []byte, b []byte) []byte {
	return appendJSONQuoted(dst, b)
}

const jsonHex = "0123456789abcdef"

func appendJSONQuoted[S string | []byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0 // s[start:i] is pending, to be copied unchanged
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', jsonHex[c>>4], jsonHex[c&0xf])
			}
			i++
			start = i
			continue
		}
		// At most utf8.UTFMax bytes are converted, which stays on the stack.
		r, size := utf8.DecodeRuneInString(string(s[i:min(len(s), i+utf8.UTFMax)]))
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', jsonHex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

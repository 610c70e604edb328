package modelstore

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxFieldNameBytes is the longest a feature's name may be, in bytes of
// UTF-8.
const MaxFieldNameBytes = 256

// byteOrderMark is U+FEFF, which a CSV reader drops from the start of a
// header (eval.csv) and many editors hide.
const byteOrderMark = '\uFEFF'

// fieldNameProblem says why name cannot be a feature's name, or "" when it
// can. A name is any text a data frame's column may have (spaces, dots,
// dashes, quotes, any script) that can be written back safely in a JSON
// key, a CSV header, a YAML schema and an HTML page and be read as the
// same name: UTF-8, at most MaxFieldNameBytes bytes, without control
// characters (C0, DEL, C1: tabs and line breaks among them), not starting
// or ending with white space, which CSV headers and YAML drop, and not
// starting with a byte-order mark. Emptiness and uniqueness are checked
// by the caller. The problem names the character and its byte offset.
func fieldNameProblem(name string) string {
	if len(name) > MaxFieldNameBytes {
		return fmt.Sprintf("name is %d bytes long; a name may have at most %d bytes of UTF-8", len(name), MaxFieldNameBytes)
	}
	for at, r := range name {
		switch {
		case r == utf8.RuneError && !validRuneAt(name, at):
			return fmt.Sprintf("name is not valid UTF-8: byte 0x%02x at byte %d", name[at], at)
		case unicode.IsControl(r):
			return fmt.Sprintf("name holds the control character %U at byte %d; a name may hold any character but control characters (tabs and line breaks among them)", r, at)
		case at == 0 && r == byteOrderMark:
			return "name starts with a byte-order mark (U+FEFF), which CSV readers drop"
		}
	}
	first, _ := utf8.DecodeRuneInString(name)
	last, size := utf8.DecodeLastRuneInString(name)
	switch {
	case unicode.IsSpace(first):
		return fmt.Sprintf("name starts with white space (%U); a name may not start or end with it, since CSV headers and YAML drop it", first)
	case unicode.IsSpace(last):
		return fmt.Sprintf("name ends with white space (%U at byte %d); a name may not start or end with it, since CSV headers and YAML drop it", last, len(name)-size)
	}
	return ""
}

// validRuneAt reports whether the rune at byte at of s is valid UTF-8:
// U+FFFD written out, not a byte that failed to decode.
func validRuneAt(s string, at int) bool {
	_, size := utf8.DecodeRuneInString(s[at:])
	return size > 1
}

package httpapi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendErrorJSON(t *testing.T) {
	f := func(msg, want string) {
		t.Helper()
		got := AppendErrorJSON(nil, msg)
		if string(got) != want {
			t.Fatalf("AppendErrorJSON(%q) = %s; want %s", msg, got, want)
		}
		var e struct{ Error string }
		if err := json.Unmarshal(got, &e); err != nil || e.Error != msg {
			t.Fatalf("AppendErrorJSON(%q) reads back as %q, %v", msg, e.Error, err)
		}
	}
	f("", `{"error":""}`)
	f(`unknown input "x"; the model's inputs are "a"`, `{"error":"unknown input \"x\"; the model's inputs are \"a\""}`)
	f("line\nbreak\ttab <&>", `{"error":"line\nbreak\ttab <&>"}`)
}

// encodingJSONString is encoding/json's quoting of s, with HTML escaping off
// as AppendJSONString has it.
func encodingJSONString(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func TestAppendJSONString(t *testing.T) {
	f := func(s string) {
		t.Helper()
		got := AppendJSONString([]byte("x"), s)
		if got[0] != 'x' {
			t.Fatalf("AppendJSONString(%q) lost dst", s)
		}
		got = got[1:]
		if !json.Valid(got) {
			t.Fatalf("AppendJSONString(%q) = %s: invalid JSON", s, got)
		}
		if want := encodingJSONString(t, s); string(got) != want {
			t.Fatalf("AppendJSONString(%q) = %s; want %s", s, got, want)
		}
		if b := AppendJSONBytes(nil, []byte(s)); string(b) != string(got) {
			t.Fatalf("AppendJSONBytes(%q) = %s; want %s", s, b, got)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("json.Unmarshal(%s) = %v", got, err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("AppendJSONString(%q) reads back as %q", s, back)
		}
	}
	f("")
	f("plain ascii")
	f(`"quoted" and \backslashed\`)
	f("\x00\x01\x07\b\t\n\v\f\r\x1b\x1f\x20\x7f")
	f("<script>&amp;</script>")
	f("é ü 日本 🙂 \u2028 \u2029 \u2027 \u202a")
	f("\xff")                // invalid byte
	f("a\xe2\x82b")          // truncated sequence
	f("\xed\xa0\x80")        // surrogate half
	f("\xc0\xaf")            // overlong
	f("\xf4\x90\x80\x80")    // beyond U+10FFFF
	f("\ufffd and \xef\xbf") // a real U+FFFD, then a truncated one
	f(strings.Repeat("\n", 40))
	f("trailing \xe2")

	// Random strings over bytes likely to matter.
	alphabet := []string{"a", "\"", "\\", "\x00", "\n", "\x1f", "\x7f", "<", "é", "\u2028", "🙂", "\xff", "\xe2", "\x82", "\xa8", "\xf0"}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		var sb strings.Builder
		for range rng.IntN(12) {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		f(sb.String())
	}
}

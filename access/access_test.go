package access

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tokens, err := ParseTokens([]byte(`
# name role secret
ci       write  ci-secret-0123456789
grafana  read   grafana-secret-0123
edge     infer  edge-secret-0123456
`), "tokens")
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPolicy(tokens, Read, Write)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		class Class
		auth  string
		name  string
		want  error
	}{
		{Public, "", "", nil},
		{Infer, "", "", nil}, // not guarded: no token needed
		{Infer, "Bearer wrong", "", nil},
		{Read, "", "", ErrUnauthenticated},
		{Read, "Bearer wrong", "", ErrUnauthenticated},
		{Read, "Basic grafana-secret-0123", "", ErrUnauthenticated},
		{Read, "Bearer ", "", ErrUnauthenticated},
		{Read, "Bearer grafana-secret-0123", "grafana", nil},
		{Read, "bearer  grafana-secret-0123 ", "grafana", nil},
		{Read, "Bearer grafana-secret-01234", "", ErrUnauthenticated},
		{Read, "Bearer edge-secret-0123456", "edge", ErrForbidden},
		{Write, "Bearer grafana-secret-0123", "grafana", ErrForbidden},
		{Write, "Bearer ci-secret-0123456789", "ci", nil},
		{Read, "Bearer ci-secret-0123456789", "ci", nil},
	} {
		var h []byte
		if c.auth != "" {
			h = []byte(c.auth)
		}
		name, err := p.Check(c.class, h)
		if name != c.name || !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("Check(%v, %q) = %q, %v; want %q, %v", c.class, c.auth, name, err, c.name, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") && !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("Check(%v, %q): error %q shows a secret", c.class, c.auth, err)
		}
	}
	var open *Policy
	if name, err := open.Check(Write, nil); name != "" || err != nil || !open.Open() {
		t.Errorf("a nil policy checks writes: %q, %v", name, err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct{ tokens, want string }{
		{"ci write", "found 2 fields"},
		{"ci admin s3cret-value", `"admin" is not infer, read or write`},
		{"c/i write s3cret-value", "token name"},
		{"ok write a b", "found 4 fields"},
	} {
		_, err := ParseTokens([]byte("# comment\n\n"+c.tokens+"\n"), "tokens.txt")
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "tokens.txt line 3") {
			t.Errorf("ParseTokens(%q) = %v; want an ErrConfig naming line 3 and %q", c.tokens, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret-value") {
			t.Errorf("ParseTokens(%q): error %q shows the secret", c.tokens, err)
		}
	}
	a, _ := NewToken("a", Write, "x1")
	if _, err := NewPolicy([]Token{a, a}, Write); !errors.Is(err, ErrConfig) {
		t.Errorf("two tokens of one name: %v", err)
	}
	if _, err := NewPolicy(nil, Write); !errors.Is(err, ErrConfig) {
		t.Errorf("guarding writes with no token: %v", err)
	}
	if cs, err := ParseClasses("read, write"); err != nil || len(cs) != 2 || cs[0] != Read || cs[1] != Write {
		t.Errorf("ParseClasses = %v, %v", cs, err)
	}
	if _, err := ParseClasses("read,admin"); !errors.Is(err, ErrConfig) {
		t.Errorf("ParseClasses(admin) = %v", err)
	}
}

func TestName(t *testing.T) {
	if got := Name(WithName(context.Background(), "ci")); got != "ci" {
		t.Errorf("Name = %q", got)
	}
	if got := Name(context.Background()); got != "" {
		t.Errorf("Name of a bare context = %q", got)
	}
}

// FuzzParseTokens reads arbitrary tokens files: no panic, and an error
// never shows a line's third field (its secret).
func FuzzParseTokens(f *testing.F) {
	for _, seed := range []string{"ci write abc\n", "# c\n\nx read y\nz infer w", "a b c d", "a\tadmin\tsecret", "\xff write s"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		tokens, err := ParseTokens([]byte(data), "fuzz")
		if err != nil {
			for line := range strings.SplitSeq(data, "\n") {
				fs := strings.Fields(line)
				if len(fs) != 3 || len(fs[2]) <= 8 || strings.Contains(fs[0]+" "+fs[1]+" fuzz", fs[2]) {
					continue // not a line with a secret, or one the other fields spell out
				}
				if strings.Contains(err.Error(), fs[2]) {
					t.Fatalf("error %q shows the secret %q", err, fs[2])
				}
			}
			return
		}
		for _, tok := range tokens {
			if tok.Role < Infer || tok.Role > Write || !validName(tok.Name) {
				t.Fatalf("ParseTokens(%q) accepted %+v", data, tok)
			}
		}
	})
}

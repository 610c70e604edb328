package access

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// ParseTokens reads tokens in the form of a tokens file: one token a line,
// as its name, its role (infer, read or write) and its secret, separated
// by white space; blank lines and lines starting with # are skipped:
//
//	# name   role   secret
//	ci       write  9f2c...
//	grafana  read   41d7...
//
// source names the file (or variable) in errors, which give the line but
// never a secret.
func ParseTokens(data []byte, source string) ([]Token, error) {
	var tokens []Token
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 {
			return nil, fmt.Errorf("%w: %s line %d: want NAME ROLE SECRET, found %d fields", ErrConfig, source, n, len(fields))
		}
		role, err := ParseClass(fields[1])
		if err != nil {
			return nil, fmt.Errorf("%s line %d: role: %w", source, n, err)
		}
		t, err := NewToken(fields[0], role, fields[2])
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", source, n, err)
		}
		tokens = append(tokens, t)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, source, err)
	}
	return tokens, nil
}

// ParseClasses reads a comma-separated list of classes, such as
// "read,write" (serve --auth).
func ParseClasses(s string) ([]Class, error) {
	var out []Class
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		c, err := ParseClass(f)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

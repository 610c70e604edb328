package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// summary says in one line what was inferred.
func (inf *inferred) summary() string {
	counts := map[string]int{}
	for _, f := range inf.Schema.Features {
		counts[f.Type]++
	}
	var parts []string
	for _, t := range []string{modelstore.TypeNumber, modelstore.TypeInteger, modelstore.TypeBool, modelstore.TypeCategory} {
		if n := counts[t]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, t))
		}
	}
	s := fmt.Sprintf("%d features (%s) from %d rows, for an FP32 input of %d columns", len(inf.Schema.Features), strings.Join(parts, ", "), inf.Rows, inf.Width)
	if n := len(inf.Schema.Classes); n > 0 {
		s += fmt.Sprintf(", %d classes", n)
	}
	return s
}

// appendYAML appends the schema to dst as the YAML file schema infer
// writes: a header that asks for a review, and each feature with what
// was observed of it as comments. ParseSchema reads it back as
// inf.Schema.
func (inf *inferred) appendYAML(dst []byte) []byte {
	line := func(format string, a ...any) { dst = fmt.Appendf(dst, format+"\n", a...) }
	src := inf.Source
	if src == "" {
		src = "the data"
	}
	label := ""
	if inf.Label != "" {
		label = ", label column " + inf.Label
	}
	line("# Records schema inferred by `switchyard schema infer` from %s (%d rows%s).", oneLine(src), inf.Rows, oneLine(label))
	line("#")
	line("# REVIEW IT BEFORE YOU PUBLISH. Types, bounds and categories are what the data")
	line("# shows, not what your domain allows: a record outside these bounds, or with a")
	line("# category not listed here, is refused with a 422. Widen what live traffic may")
	line("# rightly send, and add a description to each feature for the API's docs.")
	line("#")
	how := "each as its value's index"
	if inf.Width > len(inf.Schema.Features) {
		how = "each one-hot"
	}
	line("# Layout: the model's one input is FP32 [rows, %d]: the numbers, integers", inf.Width)
	line("# and bools in the CSV's order, then the categories, %s, as", how)
	line("# pandas.get_dummies(df, dtype=\"float32\") lays out a data frame. If your")
	line("# model reads its input otherwise, edit position and encoding (docs/records.md).")
	line("features:")
	for i, f := range inf.Schema.Features {
		for _, n := range inf.Notes[i] {
			line("  # %s: %s", oneLine(f.Name), n)
		}
		line("  - name: %s", yamlScalar(f.Name))
		line("    type: %s", f.Type)
		if f.Min != nil {
			line("    min: %s", formatNumber(*f.Min))
			line("    max: %s", formatNumber(*f.Max))
		}
		if f.Values != nil {
			vs := make([]string, len(f.Values))
			for j, v := range f.Values {
				vs[j] = yamlScalar(v)
			}
			line("    values: [%s]", strings.Join(vs, ", "))
		}
		if f.Encoding != "" {
			line("    encoding: %s", f.Encoding)
		}
		line("    position: %d", f.Position)
	}
	for _, n := range inf.LabelNote {
		line("# %s", n)
	}
	if inf.Schema.Classes != nil {
		vs := make([]string, len(inf.Schema.Classes))
		for j, v := range inf.Schema.Classes {
			vs[j] = yamlScalar(v)
		}
		line("classes: [%s]", strings.Join(vs, ", "))
	}
	line("# A field a record sends that is not listed above: reject (a 422) or ignore.")
	line("unknown_fields: %s", inf.Schema.UnknownFields)
	return dst
}

// plainYAML matches the strings written without quotes: identifiers that
// YAML reads as strings in any context, flow lists included.
var plainYAML = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// yamlScalar returns s, valid UTF-8, as a YAML scalar that reads back as
// the string s, on one line: plain when that is unambiguous, else
// double-quoted, with every character YAML does not print as itself (or
// that would break the line) escaped.
func yamlScalar(s string) string {
	switch strings.ToLower(s) {
	case "y", "n", "yes", "no", "on", "off", "true", "false", "null":
	default:
		if plainYAML.MatchString(s) {
			return s
		}
	}
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r >= 0x20 && r <= 0x7e, r >= 0xa0 && r <= 0xd7ff && r != 0x2028 && r != 0x2029,
			r >= 0xe000 && r <= 0xfffd, r >= 0x10000 && r <= utf8.MaxRune:
			b = utf8.AppendRune(b, r)
		default: // control characters, DEL, C1, line and paragraph separators, U+FFFE and U+FFFF
			b = fmt.Appendf(b, "\\u%04x", r)
		}
	}
	return string(append(b, '"'))
}

// formatNumber formats v as the shortest decimal that reads back as v.
func formatNumber(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

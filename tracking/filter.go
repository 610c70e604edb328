package tracking

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// A filter is MLflow's search filter: comparisons joined by AND, such as
//
//	metrics.auc > 0.8 and params.model = 'xgboost' and tags.team = "fraud"
//	and attributes.status = 'FINISHED'
//
// Keys with other characters are quoted in backticks or double quotes
// (metrics.`log loss` < 0.3).

// Filter limits. MLflow documents none, but its SQL store joins one
// subquery per metric, param or tag comparison, which MySQL caps at 61
// tables, and SQLite refuses expressions nested past 1000 levels (each AND
// is one level) or queries with more than 32766 parameters. Hand-written
// and generated filters stay far below these limits; a filter past them is
// refused with ErrInvalid before any SQL is built.
const (
	// MaxFilterClauses is the most comparisons one filter may join with
	// AND.
	MaxFilterClauses = 100
	// MaxFilterValues is the most values the IN and NOT IN lists of one
	// filter may hold together.
	MaxFilterValues = 1000
)

// comparison is one clause of a filter.
type comparison struct {
	kind  string // metric, param, tag, attribute
	key   string
	op    string // =, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN
	value any    // float64, string or []string (IN)
}

// parseFilter parses a filter; an empty one matches everything. It
// refuses a filter past MaxFilterClauses or MaxFilterValues.
func parseFilter(s string) ([]comparison, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	var out []comparison
	values := 0
	for i := 0; i < len(toks); {
		if len(out) == MaxFilterClauses {
			return nil, fmt.Errorf("%w: invalid filter: more than %d comparisons joined by AND", ErrInvalid, MaxFilterClauses)
		}
		if len(out) > 0 {
			if !strings.EqualFold(toks[i].text, "and") || toks[i].quoted {
				return nil, fmt.Errorf("%w: invalid filter '%s': expected AND before '%s' (only AND joins comparisons)", ErrInvalid, s, toks[i].text)
			}
			i++
		}
		c, n, err := parseComparison(toks[i:])
		if err != nil {
			return nil, fmt.Errorf("%w: invalid filter '%s': %v", ErrInvalid, s, err)
		}
		if list, ok := c.value.([]string); ok {
			if values += len(list); values > MaxFilterValues {
				return nil, fmt.Errorf("%w: invalid filter: more than %d values in its IN lists", ErrInvalid, MaxFilterValues)
			}
		}
		out = append(out, c)
		i += n
	}
	return out, nil
}

// parseComparison parses entity, operator and value from the front of
// toks and returns how many tokens it used.
func parseComparison(toks []token) (comparison, int, error) {
	var c comparison
	ent := toks[0]
	if ent.quoted {
		return c, 0, fmt.Errorf("expected an entity such as metrics.name, got '%s'", ent.text)
	}
	prefix, key, found := strings.Cut(ent.text, ".")
	if !found {
		prefix, key = "attributes", ent.text
	}
	switch strings.ToLower(prefix) {
	case "metrics", "metric":
		c.kind = "metric"
	case "params", "param", "parameters", "parameter":
		c.kind = "param"
	case "tags", "tag":
		c.kind = "tag"
	case "attributes", "attribute", "attr", "run":
		c.kind = "attribute"
	default:
		return c, 0, fmt.Errorf("invalid entity type '%s': use metrics, params, tags or attributes", prefix)
	}
	c.key = key
	if c.key == "" {
		return c, 0, fmt.Errorf("missing key after '%s'", ent.text)
	}
	if len(toks) < 3 {
		return c, 0, fmt.Errorf("incomplete comparison after '%s'", ent.text)
	}
	op := strings.ToUpper(toks[1].text)
	n := 2
	if op == "NOT" && len(toks) > 3 && strings.EqualFold(toks[2].text, "in") {
		op, n = "NOT IN", 3
	}
	switch op {
	case "=", "!=", ">", ">=", "<", "<=", "LIKE", "ILIKE", "IN", "NOT IN":
	default:
		return c, 0, fmt.Errorf("invalid comparator '%s'", toks[1].text)
	}
	c.op = op
	if op == "IN" || op == "NOT IN" {
		list, m, err := parseList(toks[n:])
		if err != nil {
			return c, 0, err
		}
		c.value = list
		return c, n + m, nil
	}
	if len(toks) <= n {
		return c, 0, fmt.Errorf("missing value after '%s'", op)
	}
	v := toks[n]
	if c.kind == "metric" || c.kind == "attribute" && numericAttribute(c.key) {
		if v.quoted {
			return c, 0, fmt.Errorf("expected a number for %s.%s, got '%s'", prefix, c.key, v.text)
		}
		f, err := strconv.ParseFloat(v.text, 64)
		if err != nil {
			return c, 0, fmt.Errorf("expected a number for %s.%s, got '%s'", prefix, c.key, v.text)
		}
		if op == "LIKE" || op == "ILIKE" {
			return c, 0, fmt.Errorf("'%s' cannot compare numbers", op)
		}
		c.value = f
	} else {
		if !v.quoted || v.quote == '`' {
			return c, 0, fmt.Errorf("expected a quoted string for %s.%s, got %s", prefix, c.key, v.text)
		}
		if op != "=" && op != "!=" && op != "LIKE" && op != "ILIKE" {
			return c, 0, fmt.Errorf("'%s' compares numbers; %s.%s is a string", op, prefix, c.key)
		}
		c.value = v.text
	}
	return c, n + 1, nil
}

// parseList parses ('a', 'b', ...) and returns how many tokens it used.
func parseList(toks []token) ([]string, int, error) {
	if len(toks) == 0 || toks[0].text != "(" || toks[0].quoted {
		return nil, 0, fmt.Errorf("expected a list such as ('a', 'b') after IN")
	}
	var out []string
	for i := 1; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.text == ")" && !t.quoted:
			if len(out) == 0 {
				return nil, 0, fmt.Errorf("empty list after IN")
			}
			return out, i + 1, nil
		case t.text == "," && !t.quoted:
		case t.quoted && t.quote != '`':
			out = append(out, t.text)
		default:
			return nil, 0, fmt.Errorf("expected quoted strings in the list after IN, got %s", t.text)
		}
	}
	return nil, 0, fmt.Errorf("unclosed list after IN")
}

// numericAttribute reports whether a run attribute holds a number.
func numericAttribute(key string) bool { return key == "start_time" || key == "end_time" }

type token struct {
	text   string
	quoted bool
	quote  rune
}

// lex splits a filter into tokens: words (entity names such as
// metrics.auc, numbers, keywords), quoted strings, operators and list
// punctuation. A backquoted or double-quoted key right after "metrics."
// joins its entity.
func lex(s string) ([]token, error) {
	var toks []token
	r := []rune(s)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			var b strings.Builder
			for ; j < len(r) && r[j] != c; j++ {
				if r[j] == '\\' && j+1 < len(r) {
					j++
				}
				b.WriteRune(r[j])
			}
			if j >= len(r) {
				return nil, fmt.Errorf("%w: invalid filter '%s': unclosed quote", ErrInvalid, s)
			}
			i = j + 1
			// metrics.`key` is one entity.
			if n := len(toks); n > 0 && c != '\'' && !toks[n-1].quoted && strings.HasSuffix(toks[n-1].text, ".") {
				toks[n-1].text += b.String()
				continue
			}
			toks = append(toks, token{text: b.String(), quoted: true, quote: c})
		case strings.ContainsRune("(),", c):
			toks = append(toks, token{text: string(c)})
			i++
		case strings.ContainsRune("=!<>", c):
			j := i + 1
			if j < len(r) && r[j] == '=' {
				j++
			}
			op := string(r[i:j])
			if op == "!" {
				return nil, fmt.Errorf("%w: invalid filter '%s': '!' must be '!='", ErrInvalid, s)
			}
			toks = append(toks, token{text: op})
			i = j
		default:
			j := i
			for j < len(r) && !unicode.IsSpace(r[j]) && !strings.ContainsRune("=!<>(),'\"`", r[j]) {
				j++
			}
			toks = append(toks, token{text: string(r[i:j])})
			i = j
		}
	}
	return toks, nil
}

package mlflow

import (
	"fmt"
	"path"
	"strings"
)

// registryFilter is a registry search's filter, parsed: comparisons of a
// version's or model's attributes with quoted strings, all of which must
// hold. Empty matches everything.
type registryFilter []registryClause

// registryClause is one comparison of a registryFilter.
type registryClause struct {
	key, op, value string
}

// parseRegistryFilter parses filter as MLflow's registry searches read it:
// comparisons such as name = 'fraud', name='fraud' or name LIKE 'fr%'
// (=, !=, LIKE and ILIKE), joined by AND, on the attributes keys names.
func parseRegistryFilter(filter string, keys ...string) (registryFilter, error) {
	toks, err := lexRegistryFilter(filter)
	if err != nil {
		return nil, err
	}
	invalid := func(why string) error {
		return &requestError{fmt.Sprintf("Invalid filter '%s': %s; switchyard supports %s compared with =, !=, LIKE or ILIKE to a quoted string, joined by AND", filter, why, strings.Join(keys, " and "))}
	}
	var out registryFilter
	for i := 0; i < len(toks); i += 3 {
		if len(out) > 0 {
			if toks[i].quoted || !strings.EqualFold(toks[i].text, "and") {
				return nil, invalid(fmt.Sprintf("expected AND before '%s'", toks[i].text))
			}
			i++
		}
		if i+3 > len(toks) {
			return nil, invalid("incomplete comparison")
		}
		key, op, val := toks[i], toks[i+1], toks[i+2]
		k := strings.TrimPrefix(key.text, "attributes.")
		if key.quoted || !containsFold(keys, k) {
			return nil, invalid(fmt.Sprintf("unsupported attribute '%s'", key.text))
		}
		o := strings.ToUpper(op.text)
		if op.quoted || o != "=" && o != "!=" && o != "LIKE" && o != "ILIKE" {
			return nil, invalid(fmt.Sprintf("unsupported comparator '%s'", op.text))
		}
		if !val.quoted {
			return nil, invalid(fmt.Sprintf("expected a quoted string, got '%s'", val.text))
		}
		out = append(out, registryClause{key: strings.ToLower(k), op: o, value: val.text})
	}
	return out, nil
}

// match reports whether every clause holds of the attributes attr
// returns by key.
func (f registryFilter) match(attr func(key string) string) bool {
	for _, c := range f {
		v := attr(c.key)
		var ok bool
		switch c.op {
		case "=":
			ok = v == c.value
		case "!=":
			ok = v != c.value
		case "LIKE":
			ok, _ = path.Match(likePattern(c.value, false), v)
		case "ILIKE":
			ok, _ = path.Match(likePattern(c.value, true), strings.ToLower(v))
		}
		if !ok {
			return false
		}
	}
	return true
}

// value returns what the filter requires key to equal, or "".
func (f registryFilter) value(key string) string {
	for _, c := range f {
		if c.key == key && c.op == "=" {
			return c.value
		}
	}
	return ""
}

// filterToken is a word, an operator or a quoted string of a filter.
type filterToken struct {
	text   string
	quoted bool
}

// lexRegistryFilter splits a filter into words, operators (=, !=) and
// quoted strings, with or without spaces between them.
func lexRegistryFilter(s string) ([]filterToken, error) {
	var toks []filterToken
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'' || c == '"' || c == '`':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, &requestError{fmt.Sprintf("Invalid filter '%s': unclosed quote", s)}
			}
			toks = append(toks, filterToken{text: s[i+1 : i+1+j], quoted: c != '`'})
			if c == '`' { // a quoted attribute name is a word
				toks[len(toks)-1].quoted = false
			}
			i += j + 2
		case c == '=':
			toks = append(toks, filterToken{text: "="})
			i++
		case c == '!' && i+1 < len(s) && s[i+1] == '=':
			toks = append(toks, filterToken{text: "!="})
			i += 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r'\"`=!", rune(s[j])) {
				j++
			}
			if j == i {
				return nil, &requestError{fmt.Sprintf("Invalid filter '%s': unexpected '%c'", s, c)}
			}
			toks = append(toks, filterToken{text: s[i:j]})
			i = j
		}
	}
	return toks, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

package suggest

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Nearest returns the candidate closest to name, and true, when one is
// close enough to be a typo of it: none for a one-letter name, at most
// one edit for a name of up to four characters, two up to eight, three beyond. An edit inserts,
// deletes or replaces a character or swaps two adjacent ones
// (Damerau–Levenshtein, optimal string alignment); letter case and the
// difference between "_", "-", "." and " " count for nothing, so
// "Max-Rows" is taken for "max_rows". Ties go to the earlier candidate.
// A candidate equal to name is not a suggestion.
func Nearest(name string, candidates []string) (string, bool) {
	key := fold(name)
	limit := 3
	switch n := utf8.RuneCountInString(key); {
	case n == 0:
		return "", false
	case n == 1:
		limit = 0 // one letter replaced is another name, not a typo
	case n <= 4:
		limit = 1
	case n <= 8:
		limit = 2
	}
	best, bestD := "", limit+1
	for _, c := range candidates {
		if c == name {
			continue
		}
		if d := distance(key, fold(c), bestD); d < bestD {
			best, bestD = c, d
		}
	}
	return best, bestD <= limit
}

// Hint returns ` (did you mean "x"?)` for the candidate Nearest finds, or
// "" when none is close: an error message appends it after the name the
// user typed.
func Hint(name string, candidates []string) string {
	c, ok := Nearest(name, candidates)
	if !ok {
		return ""
	}
	return " (did you mean " + strconv.Quote(c) + "?)"
}

// fold lowers s and maps the separators a name may be written with to
// "_".
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '-', '.', ' ':
			return '_'
		}
		return r
	}, strings.ToLower(s))
}

// distance returns the optimal string alignment distance of a and b, or
// any value of at least stop once it is sure to reach stop.
func distance(a, b string, stop int) int {
	s, t := []rune(a), []rune(b)
	if d := len(s) - len(t); d >= stop || -d >= stop {
		return stop
	}
	// Three rows of the dynamic programme: two back, one back, this one.
	prev2 := make([]int, len(t)+1)
	prev := make([]int, len(t)+1)
	cur := make([]int, len(t)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(s); i++ {
		cur[0] = i
		low := cur[0]
		for j := 1; j <= len(t); j++ {
			cost := 1
			if s[i-1] == t[j-1] {
				cost = 0
			}
			d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && s[i-1] == t[j-2] && s[i-2] == t[j-1] {
				d = min(d, prev2[j-2]+1)
			}
			cur[j] = d
			low = min(low, d)
		}
		if low >= stop {
			return stop
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(t)]
}

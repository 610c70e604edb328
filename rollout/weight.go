package rollout

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseWeight reads a weight written either in basis points ("2500") or as
// a percentage with at most two decimals ("25%", "0.5%", "12.25%"), and
// returns it in basis points. It checks the syntax only, not the range:
// "150%" reads as 15000. Errors wrap ErrPolicy.
func ParseWeight(s string) (int, error) {
	pct, isPct := strings.CutSuffix(s, "%")
	if !isPct {
		n, err := strconv.Atoi(s)
		if err != nil || s == "" || s[0] == '+' || s[0] == '-' {
			return 0, fmt.Errorf("weight %q: want basis points such as 2500 or a percentage such as \"25%%\": %w", s, ErrPolicy)
		}
		return n, nil
	}
	whole, frac, hasFrac := strings.Cut(pct, ".")
	if !digitsOnly(whole) || (hasFrac && (!digitsOnly(frac) || len(frac) > 2)) || len(whole) > 6 {
		return 0, fmt.Errorf("weight %q: want a percentage with at most two decimals such as \"2.5%%\": %w", s, ErrPolicy)
	}
	n, _ := strconv.Atoi(whole) // digits only, at most 6
	bp := n * 100
	for i, scale := 0, 10; i < len(frac); i, scale = i+1, scale/10 {
		bp += int(frac[i]-'0') * scale
	}
	return bp, nil
}

// digitsOnly reports whether s is one or more ASCII digits.
func digitsOnly(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// formatWeight writes basis points as a percentage with two decimals:
// 2500 is "25.00%".
func formatWeight(bp int) string {
	sign := ""
	if bp < 0 {
		sign, bp = "-", -bp
	}
	return fmt.Sprintf("%s%d.%02d%%", sign, bp/100, bp%100)
}

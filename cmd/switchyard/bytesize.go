package main

import (
	"fmt"
	"strconv"
	"strings"
)

// byteSize is a flag holding a size in bytes, written as a number with an
// optional binary unit: 512MiB, 2GiB, 1048576.
type byteSize int64

var byteUnits = []struct {
	suffix string
	scale  int64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"B", 1}}

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

// Set parses s, such as "2GiB".
func (b *byteSize) Set(s string) error {
	num, scale := strings.TrimSpace(s), int64(1)
	for _, u := range byteUnits {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, scale = strings.TrimSpace(rest), u.scale
			break
		}
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n < 0 || n*float64(scale) > 1<<62 {
		return fmt.Errorf("%q is not a size such as 512MiB or 2GiB", s)
	}
	*b = byteSize(n * float64(scale))
	return nil
}

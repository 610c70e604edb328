package modelstore

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults of the cache block for a key it leaves out.
const (
	DefaultCacheMaxBytes int64         = 64 << 20
	DefaultCacheTTL      time.Duration = 5 * time.Minute
)

// CachePolicy is the cache block of policy.yaml: the response cache is
// opt-in, so a model without the block (Policy.Cache nil) caches
// nothing. A key left out keeps its default (DefaultCacheMaxBytes,
// DefaultCacheTTL).
//
//	cache:
//	  max_bytes: 64MiB # bytes, or a number with KiB, MiB or GiB
//	  ttl: 5m          # an entry is served at most this long
//
// Keys are strict: an unknown or repeated key, or a value of the wrong
// kind, fails with a message naming it.
type CachePolicy struct {
	MaxBytes *int64    `yaml:"max_bytes"`
	TTL      *Duration `yaml:"ttl"`
}

// UnmarshalYAML decodes the cache block strictly, naming the key of any
// error.
func (c *CachePolicy) UnmarshalYAML(n *yaml.Node) error {
	return decodeBlock(n, "cache", map[string]func(*yaml.Node) error{
		"max_bytes": func(v *yaml.Node) error { return decodeBytes(v, &c.MaxBytes) },
		"ttl":       func(v *yaml.Node) error { return decodeDuration(v, &c.TTL) },
	})
}

// Limits returns the cache's size bound and entry lifetime, with the
// defaults for the keys the block leaves out.
func (c *CachePolicy) Limits() (maxBytes int64, ttl time.Duration) {
	maxBytes, ttl = DefaultCacheMaxBytes, DefaultCacheTTL
	if c.MaxBytes != nil {
		maxBytes = *c.MaxBytes
	}
	if c.TTL != nil {
		ttl = time.Duration(*c.TTL)
	}
	return maxBytes, ttl
}

// validate refuses settings outside their ranges, naming the key.
func (c *CachePolicy) validate() error {
	maxBytes, ttl := c.Limits()
	switch {
	case maxBytes <= 0:
		return fmt.Errorf("max_bytes is %d; want a positive number of bytes", maxBytes)
	case ttl <= 0:
		return fmt.Errorf("ttl is %v; want a positive duration", ttl)
	}
	return nil
}

// byteUnits are the suffixes decodeBytes accepts, longest first.
var byteUnits = []struct {
	suffix string
	shift  uint
}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}}

// decodeBytes decodes a size: an integer number of bytes, or an integer
// followed by KiB, MiB or GiB such as "64MiB".
func decodeBytes(v *yaml.Node, dst **int64) error {
	if v.Kind != yaml.ScalarNode || (v.ShortTag() != "!!int" && v.ShortTag() != "!!str") {
		return fmt.Errorf("%q: want bytes such as 67108864 or 64MiB", v.Value)
	}
	text, shift := strings.TrimSpace(v.Value), uint(0)
	for _, u := range byteUnits {
		if num, ok := strings.CutSuffix(text, u.suffix); ok {
			text, shift = strings.TrimSpace(num), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil || n > (1<<62)>>shift {
		return fmt.Errorf("%q: want bytes such as 67108864 or 64MiB", v.Value)
	}
	x := n << shift
	*dst = &x
	return nil
}

package modelstore

import (
	"fmt"
	"math"

	"go.yaml.in/yaml/v3"
)

// CostPolicy is the cost block of policy.yaml: the price that turns the
// model's compute seconds into dollars per 1,000 predictions. A model
// without the block follows the server's --cost-per-core-hour.
//
//	cost:
//	  per_core_hour: 0.048 # dollars per core-hour; 0: no price for this model
//
// Keys are strict: an unknown or repeated key, or a value of the wrong
// kind, fails with a message naming it.
type CostPolicy struct {
	PerCoreHour *float64 `yaml:"per_core_hour"`
}

// UnmarshalYAML decodes the cost block strictly, naming the key of any
// error.
func (c *CostPolicy) UnmarshalYAML(n *yaml.Node) error {
	return decodeBlock(n, "cost", map[string]func(*yaml.Node) error{
		"per_core_hour": func(v *yaml.Node) error { return decodeScalar(v, &c.PerCoreHour) },
	})
}

// Price returns the price per core-hour in force: the block's when it
// sets one, else def, the server's.
func (c *CostPolicy) Price(def float64) float64 {
	if c.PerCoreHour != nil {
		return *c.PerCoreHour
	}
	return def
}

// validate refuses a price outside its range, naming the key.
func (c *CostPolicy) validate() error {
	if p := c.PerCoreHour; p != nil && (*p < 0 || math.IsInf(*p, 0) || math.IsNaN(*p)) {
		return fmt.Errorf("per_core_hour is %v; want dollars per core-hour, 0 or more", *p)
	}
	return nil
}

// validPrice reports whether a server's price per core-hour is one.
func validPrice(p float64) bool { return p >= 0 && !math.IsInf(p, 0) && !math.IsNaN(p) }

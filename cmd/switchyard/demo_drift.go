package main

import (
	"math"
	"slices"

	"github.com/switchyard-ml/switchyard/internal/demo"
)

// driftSummary says how driftRecord drifts the demo's traffic.
const driftSummary = "amount up by 1.5 standard deviations, every other merchant in " + driftCountry

// driftCountry is the country whose share of the drifted traffic grows.
const driftCountry = "US"

// driftShift returns the shift of the amount in the drifted traffic: 1.5
// standard deviations of the amounts of d.
func driftShift(d *demo.Dataset) float64 {
	var sum, sq float64
	n := float64(d.Len())
	for i := range d.Len() {
		sum += d.Row(i)[demo.Amount]
	}
	mean := sum / n
	for i := range d.Len() {
		x := d.Row(i)[demo.Amount] - mean
		sq += x * x
	}
	return 1.5 * math.Sqrt(sq/(n-1))
}

// driftRecord returns a copy of record i of the demo's traffic, drifted
// as driftSummary says: its amount raised by shift (within the field's
// bounds, so that it stays valid), and, for every other record, its
// merchant's country set to driftCountry. The other fields are left as
// they are.
func driftRecord(record []float64, i int, shift float64) []float64 {
	r := slices.Clone(record)
	r[demo.Amount] = math.Min(math.Round((r[demo.Amount]+shift)*100)/100, maxDemoField("amount"))
	if i%2 == 0 {
		r[demo.Country] = float64(slices.Index(demo.Countries[:], driftCountry))
	}
	return r
}

// maxDemoField returns the upper bound of the demo's field name.
func maxDemoField(name string) float64 {
	for _, f := range demo.Features() {
		if f.Name == name {
			return f.Max
		}
	}
	panic("BUG: the demo has no field " + name)
}

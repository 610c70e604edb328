package drift

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// goldenCase is one case of testdata/golden.json, written by
// scripts/drift/golden.py with scipy.
type goldenCase struct {
	Name          string    `json:"name"`
	Kind          Kind      `json:"kind"`
	Ref           []float64 `json:"ref"`
	Cur           []float64 `json:"cur"`
	RefCategories []string  `json:"ref_categories"`
	CurCategories []string  `json:"cur_categories"`

	KSStatistic     float64 `json:"ks_statistic"`
	KSPValue        float64 `json:"ks_p_value"`
	Wasserstein     float64 `json:"wasserstein"`
	WassersteinNorm float64 `json:"wasserstein_norm"`
	// ChiSquare is a number or "inf".
	ChiSquare          json.RawMessage `json:"chisquare"`
	ChiSquarePValue    float64         `json:"chisquare_p_value"`
	Z                  *float64        `json:"z"`
	ZPValue            *float64        `json:"z_p_value"`
	JensenShannon      float64         `json:"jensenshannon"`
	JensenShannonBase2 float64         `json:"jensenshannon_base2"`
	PSI                float64         `json:"psi"`
}

func loadGolden(t *testing.T) []goldenCase {
	t.Helper()
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) == 0 {
		t.Fatal("no golden cases")
	}
	return g.Cases
}

// near reports whether got agrees with want to 1e-9, relative to want
// when it is above 1.
func near(got, want float64) bool {
	if math.IsInf(want, 1) {
		return got == math.MaxFloat64 || math.IsInf(got, 1)
	}
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

// goldenColumns builds the reference profile (its sample holding every
// reference row) and the current column of a case.
func goldenColumns(t *testing.T, c goldenCase) (*ColumnProfile, Column) {
	t.Helper()
	ref := Column{Name: "x", Kind: c.Kind, Numbers: c.Ref, Categories: c.RefCategories}
	cur := Column{Name: "x", Kind: c.Kind, Numbers: c.Cur, Categories: c.CurCategories}
	p, err := BuildProfile([]Column{ref}, nil, ProfileOptions{SampleRows: len(c.Ref) + len(c.RefCategories)})
	if err != nil {
		t.Fatal(err)
	}
	return &p.Features[0], cur
}

func TestGolden(t *testing.T) {
	for _, c := range loadGolden(t) {
		t.Run(c.Name, func(t *testing.T) {
			ref, cur := goldenColumns(t, c)
			check := func(test Test, wantStat float64, wantP *float64) {
				t.Helper()
				r, err := Compare(ref, cur, Override{Test: test})
				if err != nil {
					t.Fatalf("%s: %v", test, err)
				}
				if !near(r.Statistic, wantStat) {
					t.Errorf("%s: statistic %.17g, scipy %.17g", test, r.Statistic, wantStat)
				}
				switch {
				case wantP == nil && r.PValue != nil:
					t.Errorf("%s: p-value %g, want none", test, *r.PValue)
				case wantP != nil && r.PValue == nil:
					t.Errorf("%s: no p-value, scipy %g", test, *wantP)
				case wantP != nil && !near(*r.PValue, *wantP):
					t.Errorf("%s: p-value %.17g, scipy %.17g", test, *r.PValue, *wantP)
				}
			}
			if c.Kind == Numeric {
				check(KS, c.KSStatistic, &c.KSPValue)
				check(Wasserstein, c.WassersteinNorm, nil)
				if got := wasserstein(ref.Sample, finiteSorted(c.Cur)); !near(got, c.Wasserstein) {
					t.Errorf("wasserstein %.17g, scipy %.17g", got, c.Wasserstein)
				}
			}
			if c.ChiSquare != nil {
				var chi float64
				if string(c.ChiSquare) == `"inf"` {
					chi = math.Inf(1)
				} else if err := json.Unmarshal(c.ChiSquare, &chi); err != nil {
					t.Fatal(err)
				}
				check(ChiSquare, chi, &c.ChiSquarePValue)
				if c.Z != nil {
					check(ZTest, *c.Z, c.ZPValue)
				}
			}
			wantJS := c.JensenShannon
			if jsBase == 2 {
				wantJS = c.JensenShannonBase2
			}
			check(JensenShannon, wantJS, nil)
			check(PSI, c.PSI, nil)

			// Base 2, which the issue named, on the same cells.
			comp := comparisonOf(ref, cur)
			tab := comp.values()
			if comp.binned() {
				tab = binTable(ref.Sample, comp.numbers, sturgesEdges(ref.Sample, comp.numbers))
			}
			p, q := tab.percents(false)
			if got := jensenShannon(p, q, 2); !near(got, c.JensenShannonBase2) {
				t.Errorf("jensenshannon base 2 %.17g, scipy %.17g", got, c.JensenShannonBase2)
			}
		})
	}
}

func comparisonOf(ref *ColumnProfile, cur Column) comparison {
	if ref.Kind == Numeric {
		return numericComparison(ref, cur)
	}
	return categoricalComparison(ref, cur)
}

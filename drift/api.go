package drift

import "time"

// ProfileFile is the name of a version's reference profile in its
// directory.
const ProfileFile = "profile.json"

// DefaultSampleRows caps the sorted reference sample kept per numeric
// column.
const DefaultSampleRows = 5000

// Kind is how a column is compared: numeric or categorical.
type Kind string

// The kinds of column.
const (
	Numeric     Kind = "numeric"
	Categorical Kind = "categorical"
)

// Column is one column of data: a feature or the model's score. Numeric
// columns hold Numbers; categorical ones Categories (bool columns are
// categorical with "true"/"false").
type Column struct {
	Name       string
	Kind       Kind
	Numbers    []float64
	Categories []string
}

// Profile is a version's profile.json: the reference distribution of each
// feature and of the model's score.
type Profile struct {
	// Format is 1.
	Format int `json:"format"`
	// Source says what data the profile was built from (a path and its
	// sha256, or "the eval set").
	Source  string    `json:"source"`
	Rows    int       `json:"rows"`
	Created time.Time `json:"created"`
	// Features are in the model's input order.
	Features []ColumnProfile `json:"features"`
	// Scores are the reference distributions of the model's output: one
	// column per score (the positive class's probability, each class's,
	// or a regressor's value). Empty when the model gives none.
	Scores []ColumnProfile `json:"scores,omitempty"`
}

// ColumnProfile is the reference distribution of one column.
type ColumnProfile struct {
	Name  string  `json:"name"`
	Kind  Kind    `json:"kind"`
	Count int     `json:"count"`
	Mean  float64 `json:"mean,omitempty"`
	Std   float64 `json:"std,omitempty"`
	Min   float64 `json:"min,omitempty"`
	Max   float64 `json:"max,omitempty"`
	// Distinct is the number of distinct values in the full reference.
	Distinct int `json:"distinct"`
	// Sample is the sorted reference sample (numeric; at most SampleRows
	// rows, drawn uniformly with a fixed seed).
	Sample []float64 `json:"sample,omitempty"`
	// Frequencies counts each value (categorical).
	Frequencies map[string]int `json:"frequencies,omitempty"`
}

// ProfileOptions configures BuildProfile.
type ProfileOptions struct {
	// SampleRows caps each numeric column's sample (0: DefaultSampleRows).
	SampleRows int
	// Seed seeds the uniform sample (fixed by default).
	Seed   uint64
	Source string
}

// Test names a statistical test.
type Test string

// The tests, as Evidently names them.
const (
	KS            Test = "ks"
	ChiSquare     Test = "chisquare"
	ZTest         Test = "z"
	Wasserstein   Test = "wasserstein"
	JensenShannon Test = "jensenshannon"
	PSI           Test = "psi"
)

// Override is a policy's choice of test and threshold for one column;
// zero values keep the default choice.
type Override struct {
	Test      Test
	Threshold float64
}

// Summary describes a column's distribution for a report: mean and std
// for numeric columns, the most frequent values (at most 5) for
// categorical ones.
type Summary struct {
	Rows int                `json:"rows"`
	Mean *float64           `json:"mean,omitempty"`
	Std  *float64           `json:"std,omitempty"`
	Top  map[string]float64 `json:"top,omitempty"` // value -> share
}

// Result is one column's comparison.
type Result struct {
	Column    string  `json:"column"`
	Test      Test    `json:"test"`
	Statistic float64 `json:"statistic"`
	// PValue is set for the tests that give one (ks, chisquare, z); drift
	// is p < Threshold then (p <= Threshold for ks, as in Evidently), else
	// statistic >= Threshold. Statistic is KS's D, Pearson's chi-squared
	// (math.MaxFloat64 when infinite, for JSON), the Z score, or the
	// distance or PSI itself.
	PValue    *float64 `json:"p_value,omitempty"`
	Threshold float64  `json:"threshold"`
	Drifted   bool     `json:"drifted"`
	Reference Summary  `json:"reference"`
	Current   Summary  `json:"current"`
}

// DefaultDatasetShare is DataDriftPreset's share of drifted features at
// which the dataset has drifted.
const DefaultDatasetShare = 0.5

// DatasetDrift returns the share of drifted results and whether it
// reaches share.
func DatasetDrift(results []Result, share float64) (float64, bool) {
	n := 0
	for _, r := range results {
		if r.Drifted {
			n++
		}
	}
	if len(results) == 0 {
		return 0, false
	}
	s := float64(n) / float64(len(results))
	return s, s >= share
}

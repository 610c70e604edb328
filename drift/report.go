package drift

import (
	"fmt"
	"time"
)

// Report is the drift report of a model: one entry per version the
// monitor has seen, ascending.
type Report struct {
	Model    string          `json:"model"`
	Versions []VersionReport `json:"versions"`
}

// VersionReport is one version's drift: the newest full window judged,
// and the rolling view of the window being filled. Status says whether
// there is a judgment: "ok", or why not ("no_profile", "invalid_profile",
// "invalid_policy", "unsupported" inputs, "waiting" for a first full
// window).
type VersionReport struct {
	Version int    `json:"version"`
	Status  string `json:"status"`
	// Reason says why Status is not "ok", in words.
	Reason string `json:"reason,omitempty"`
	// Profile says what data the reference profile was built from.
	Profile string `json:"profile,omitempty"`
	// Sample is the share of predictions sampled.
	Sample float64 `json:"sample"`
	// Window is the newest full window's judgment; Current is the
	// window being filled, judged as it stands.
	Window  *WindowReport `json:"window,omitempty"`
	Current *WindowReport `json:"current,omitempty"`
	// EvaluatedAt is when the monitor last judged the version.
	EvaluatedAt time.Time `json:"evaluated_at,omitzero"`
}

// The statuses of a VersionReport.
const (
	StatusOK             = "ok"
	StatusNoProfile      = "no_profile"
	StatusInvalidProfile = "invalid_profile"
	StatusInvalidPolicy  = "invalid_policy"
	StatusWaiting        = "waiting"
	StatusUnsupported    = "unsupported"
)

// WindowReport is the judgment of one window: per feature, the dataset
// drift, and the prediction drift (the score column).
type WindowReport struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Rows  int       `json:"rows"`
	// Features are the feature columns' comparisons, in input order.
	Features []Result `json:"features"`
	// DatasetShare is the share of drifted features; DatasetDrift whether
	// it reaches the policy's dataset_share.
	DatasetShare float64 `json:"dataset_drift_share"`
	DatasetDrift bool    `json:"dataset_drift"`
	// Prediction is the score column's comparison, when the model gives a
	// score and the profile a reference for it.
	Prediction *Result `json:"prediction,omitempty"`
	// Problems lists the columns that could not be judged, and why.
	Problems []string `json:"problems,omitempty"`
}

// comparer compares a column with its reference: Compare, or a stand-in
// in tests of the monitor's own logic.
type comparer func(ref *ColumnProfile, current Column, o Override) (Result, error)

// judge compares the window w of the version described by d with its
// reference profile under policy p.
func judge(cmp comparer, d *Description, prof *Profile, p Policy, w *window) *WindowReport {
	r := &WindowReport{Start: w.start, End: w.end, Rows: w.rows, Features: []Result{}}
	refs := make(map[string]*ColumnProfile, len(prof.Features))
	for i := range prof.Features {
		refs[prof.Features[i].Name] = &prof.Features[i]
	}
	for i, spec := range d.Columns {
		if spec.Name == "" {
			continue // inside a one-hot block
		}
		ref := refs[spec.Name]
		if ref == nil {
			r.Problems = append(r.Problems, fmt.Sprintf("%s: not in the profile", spec.Name))
			continue
		}
		res, err := cmp(ref, w.column(i, spec), p.Features[spec.Name])
		if err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("%s: %v", spec.Name, err))
			continue
		}
		r.Features = append(r.Features, res)
	}
	r.DatasetShare, r.DatasetDrift = DatasetDrift(r.Features, p.DatasetShare)
	if name, ok := scoreName(prof); ok {
		if col, ok := w.scoreColumn(name); ok {
			res, err := cmp(&prof.Scores[0], col, p.Features[name])
			if err != nil {
				r.Problems = append(r.Problems, fmt.Sprintf("%s: %v", name, err))
			} else {
				r.Prediction = &res
			}
		}
	}
	return r
}

// scoreName is the name of the profile's score column, when it has
// exactly one: the monitor sees one score per row (see
// modelstore.Version.EachScore).
func scoreName(prof *Profile) (string, bool) {
	if prof == nil || len(prof.Scores) != 1 {
		return "", false
	}
	return prof.Scores[0].Name, true
}

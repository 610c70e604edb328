package quality

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// record turns a labelled prediction of a version described by d into a
// Record for its window. The logged score is the one the server records
// (modelstore's score rule): the positive class's probability of a
// binary classifier, the predicted class scaled into [0, 1] as
// class/(k-1) of a multiclass one, a regressor's value. The label is a
// class name of d.Classes or a class index, or a regressor's number.
func (d *Description) record(l labelled) (Record, error) {
	if len(l.scores) != 1 {
		return Record{}, fmt.Errorf("prediction %s has %d scores; only a prediction of one row can be measured", l.id, len(l.scores))
	}
	s := l.scores[0]
	r := Record{PredictedAt: l.at, LabelledAt: l.labelledAt}
	switch d.Kind {
	case Regression:
		var target float64
		if err := json.Unmarshal(l.label, &target); err != nil {
			return Record{}, fmt.Errorf("prediction %s: label %s is not a regressor's number", l.id, l.label)
		}
		r.Predicted, r.Target = s, target
	case Binary:
		if !(s >= 0 && s <= 1) {
			return Record{}, fmt.Errorf("prediction %s: score %v is not a probability", l.id, s)
		}
		r.Probs = []float64{1 - s, s}
	case Multiclass:
		k := d.ClassCount
		class := math.Round(s * float64(k-1))
		if !(class >= 0 && class < float64(k)) {
			return Record{}, fmt.Errorf("prediction %s: score %v names no class of %d", l.id, s, k)
		}
		r.Probs = make([]float64, k)
		r.Probs[int(class)] = 1
	default:
		return Record{}, fmt.Errorf("prediction %s: the version is not measured", l.id)
	}
	if d.Kind == Regression {
		return r, nil
	}
	label, err := d.classIndex(l.label)
	if err != nil {
		return Record{}, fmt.Errorf("prediction %s: %w", l.id, err)
	}
	r.Label = label
	return r, nil
}

// classIndex reads a classifier's label: a class name of d.Classes, or a
// class index as a number or a string of digits.
func (d *Description) classIndex(raw json.RawMessage) (int, error) {
	classes := 2
	if d.Kind == Multiclass {
		classes = d.ClassCount
	}
	var name string
	if err := json.Unmarshal(raw, &name); err == nil {
		if i := slices.Index(d.Classes, name); i >= 0 {
			return i, nil
		}
		n, err := strconv.Atoi(name)
		if err != nil {
			return 0, fmt.Errorf("label %q is no class of %v", name, d.Classes)
		}
		raw = json.RawMessage(strconv.Itoa(n))
	}
	var x float64
	if err := json.Unmarshal(raw, &x); err != nil || x != math.Trunc(x) || x < 0 || x >= float64(classes) {
		return 0, fmt.Errorf("label %s is not a class index below %d", raw, classes)
	}
	return int(x), nil
}

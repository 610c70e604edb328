package stream

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// TestLabelsCarryScoresThatAreNotFinite: a prediction whose model
// answered NaN or an infinity still has its label shared; JSON's numbers
// cannot carry those scores, so they travel as strings and come back as
// they were.
func TestLabelsCarryScoresThatAreNotFinite(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	wire := []wireLabel{{PredictionID: "p1", Model: "m", Version: 2, PredictedNS: at.UnixNano(),
		Scores: wireScores{math.NaN(), math.Inf(1), math.Inf(-1), 0.25, -1e-300}, Label: json.RawMessage(`1`), LabelledNS: at.UnixNano()}}
	data, err := json.Marshal(wire)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	ps, err := decodeLabels("m", data)
	if err != nil {
		t.Fatalf("decodeLabels(%s): %v", data, err)
	}
	got := ps[0].Scores
	if len(got) != 5 || !math.IsNaN(got[0]) || !math.IsInf(got[1], 1) || !math.IsInf(got[2], -1) || got[3] != 0.25 || got[4] != -1e-300 {
		t.Errorf("scores came back as %v from %s", got, data)
	}
	for _, bad := range []string{`"abc"`, `"1.5"`, `{}`} {
		if _, err := decodeLabels("m", []byte(`[{"prediction_id":"p","model":"m","label":1,"scores":[`+bad+`]}]`)); err == nil {
			t.Errorf("a score %s was taken", bad)
		}
	}
}

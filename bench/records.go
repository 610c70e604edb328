package bench

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// MinRecordsRatio is the target for one-row records requests per second
// over one-row V2 requests carrying the same values, to the same model on
// the same server.
const MinRecordsRatio = 0.8

// RecordsConfig configures RecordsCost. The zero value runs the scenario
// with the defaults it names.
type RecordsConfig struct {
	// RoundsConfig sets the rounds: a round is a phase of V2 requests
	// followed by one of records requests, against one server.
	RoundsConfig
}

// RecordsPhase is one phase of RecordsCost: V2 or records requests under
// load.
type RecordsPhase struct {
	// RoundPhase holds the round and what the load measured.
	RoundPhase
	// Records reports records requests (POST /v1/models/{m}:predict);
	// otherwise the phase sent V2 requests (POST /v2/models/{m}/infer).
	Records bool `json:"records"`
}

// progress implements roundsPhase.
func (p RecordsPhase) progress() (label, more string) {
	return fmt.Sprintf("%-7s", map[bool]string{false: "V2", true: "records"}[p.Records]), ""
}

// RecordsReport is the outcome of RecordsCost. It is a plain value; its
// JSON encoding is the machine-readable report. Its RoundRatios are of
// the rounds' records requests per second over their V2 ones; its goal is
// Ratio at least MinRecordsRatio, missing without a ratio.
type RecordsReport struct {
	RoundsReport
	// RecordsBody and V2Body are the requests sent, one instance or row
	// each, with the same values.
	RecordsBody string `json:"records_body"`
	V2Body      string `json:"v2_body"`
	// Phases are the phases in the order run: V2, records, V2, records
	// and so on, two per round.
	Phases []RecordsPhase `json:"phases"`
}

// RecordsCost measures what decoding and validating records costs against
// V2. It publishes Compare's small model into a temporary registry with a
// feature schema for its 30 columns (recordsFeatures), starts one
// `switchyard serve` on it and, Rounds times, drives one-row V2 requests
// over Connections connections for Duration, then one-instance records
// requests carrying the same values. engine.Init must have been called.
//
// The server listens on 127.0.0.1 only and is stopped before RecordsCost
// returns, whatever happens. An error means the scenario could not be
// run; failed requests and a missed goal are reported, not errors.
func RecordsCost(ctx context.Context, cfg RecordsConfig) (*RecordsReport, error) {
	if err := cfg.setDefaults("records"); err != nil {
		return nil, err
	}
	records, v2 := recordsBodies(1)
	phases, err := runRounds(ctx, &cfg.RoundsConfig, "records", &cfg)
	if err != nil {
		return nil, err
	}
	rep := &RecordsReport{RoundsReport: cfg.report(), RecordsBody: string(records), V2Body: string(v2), Phases: phases}
	judgeRounds(&rep.RoundsReport, rep.Phases)
	rep.Goals = []Goal{newGoal("small req/s with one-instance records ÷ one-row V2", rep.Ratio, ">=", MinRecordsRatio, "", rep.Ratio > 0)}
	return rep, nil
}

// setup publishes the small model with its feature schema and starts the
// server of the whole run; it implements roundsScenario.
func (cfg *RecordsConfig) setup(ctx context.Context, st *stage) error {
	registry := st.registry("registry")
	_, err := st.publish(registry, st.small.mlp, modelstore.PublishOptions{
		Description: "switchyard bench: random MLP with a feature schema",
		Features:    recordsFeatures(), Classes: []string{"legit", "fraud"}})
	if err == nil {
		_, err = st.serveAll(ctx, registry)
	}
	return err
}

// phase measures V2 requests or, as the variant, records requests with
// the same values; it implements roundsScenario.
func (cfg *RecordsConfig) phase(ctx context.Context, st *stage, round int, records bool) (RecordsPhase, error) {
	rec, v2 := recordsBodies(1)
	addr := st.server.addr
	load := cfg.load(addr, SmallModel, v2)
	if records {
		load.URL, load.Body = "http://"+addr+"/v1/models/"+SmallModel+":predict", rec
	}
	r, err := Run(ctx, load)
	return RecordsPhase{RoundPhase: RoundPhase{Round: round, Result: r}, Records: records}, err
}

// WriteText writes the report as fixed-width tables for people to read:
// the phases, the ratio of each round and the goal.
func (r *RecordsReport) WriteText(w io.Writer) error {
	return writeRounds(w, &r.RoundsReport, r.Phases, &roundsText{
		flag: "--records-cost",
		intro: fmt.Sprintf("model %s (MLP 30-64-2) with a feature schema of 28 fields for its 30 columns (26 numbers, a one-hot\n"+
			"category of 3 values, a bool), one server; %d rounds, each %v of one-row V2 requests then %v of one-instance\n"+
			"records requests with the same values (%d and %d bytes), over %d connections after %v warm-up\n",
			SmallModel, r.Rounds, r.Duration, r.Duration, len(r.V2Body), len(r.RecordsBody), r.Connections, r.Warmup),
		column: "requests", width: 8, labels: [2]string{"V2", "records"}, count: "sent", more: "÷ V2",
		notes: "(÷ V2: the round's records req/s over its V2 req/s)\n",
	})
}

// recordsCountries are the values of recordsFeatures' category.
var recordsCountries = []string{"FR", "DE", "US"}

// recordsFeatures is a feature schema for the 30 FP32 columns of
// Compare's small model, as a fraud model's might be: 26 numbers f00 to
// f25, a country one-hot over three columns and a bool.
func recordsFeatures() []modelstore.Feature {
	fs := make([]modelstore.Feature, 0, 28)
	for c := range 26 {
		fs = append(fs, modelstore.Feature{Name: fmt.Sprintf("f%02d", c), Type: modelstore.TypeNumber, Position: c})
	}
	return append(fs,
		modelstore.Feature{Name: "country", Type: modelstore.TypeCategory, Values: recordsCountries,
			Encoding: modelstore.EncodeOneHot, Position: 26},
		modelstore.Feature{Name: "is_foreign", Type: modelstore.TypeBool, Position: 29})
}

// recordsBodies returns a one-instance records request for
// recordsFeatures, with numbers drawn as InferBody draws them from seed,
// and the one-row V2 request that carries the same values as the model
// gets them.
func recordsBodies(seed uint64) (records, v2 []byte) {
	vals := make([]float32, 28)
	randomFloats(vals, seed)
	country := min(int((vals[26]+1)/2*float32(len(recordsCountries))), len(recordsCountries)-1)
	foreign := vals[27] > 0
	records = append(records, `{"instances":[{`...)
	v2 = appendInputHeader(v2, "input", 1, 30)
	v2 = append(v2, `,"data":[`...)
	for c, v := range vals[:26] {
		records = fmt.Appendf(records, `"f%02d":`, c)
		records = strconv.AppendFloat(records, float64(v), 'g', -1, 32)
		records = append(records, ',')
		v2 = strconv.AppendFloat(v2, float64(v), 'g', -1, 32)
		v2 = append(v2, ',')
	}
	records = fmt.Appendf(records, `"country":%q,"is_foreign":%t}]}`, recordsCountries[country], foreign)
	for k := range recordsCountries {
		if k == country {
			v2 = append(v2, "1,"...)
		} else {
			v2 = append(v2, "0,"...)
		}
	}
	if foreign {
		v2 = append(v2, '1')
	} else {
		v2 = append(v2, '0')
	}
	return records, append(v2, "]}]}"...)
}

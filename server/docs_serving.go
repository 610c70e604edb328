package server

import (
	"encoding/json"
	"strconv"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// servingModel is one model in the docs page's serving data: the versions
// that share the requests naming no version, candidate first and stable
// last as the routing table holds them, and the version that shadows it.
type servingModel struct {
	Model  string       `json:"model"`
	Arms   []servingArm `json:"arms"`             // empty when no version serves
	Shadow string       `json:"shadow,omitempty"` // the shadow's version, if any
}

// servingArm is one version's share of a model's requests.
type servingArm struct {
	Version string `json:"version"`
	Weight  int    `json:"weight"` // basis points; rollout.FullWeight is all
}

// appendServingData appends to dst, as JSON, what serves each model of
// models now: a servingModel per model, in the order Models lists them. It
// is written with encoding/json, whose escaping of <, > and & keeps it
// from closing the <script> element it is put in.
func appendServingData(dst []byte, models Models) []byte {
	t := models.Table()
	list := []servingModel{}
	for _, m := range models.Models() {
		rt := t.Route(m.Name)
		sm := servingModel{Model: m.Name, Arms: []servingArm{}}
		for _, a := range rt.Arms() {
			sm.Arms = append(sm.Arms, servingArm{Version: labelOf(a.Target, a.Version), Weight: a.Weight})
		}
		if v, ok := rt.Shadow(); ok && v != nil {
			sm.Shadow = v.Label
		}
		list = append(list, sm)
	}
	b, err := json.Marshal(list)
	if err != nil {
		panic("BUG: the serving data cannot be marshalled: " + err.Error())
	}
	return append(dst, b...)
}

// labelOf is the label of an arm's version: its target's, or its number
// when the arm has no target.
func labelOf(v *modelstore.Version, n int) string {
	if v != nil {
		return v.Label
	}
	return strconv.Itoa(n)
}

package admin_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/server/internal/servertest"
)

// TestAdminModelCost checks each version's cost in GET /admin/models/{m}:
// the serving version's predictions count the rows it answered, its
// seconds per prediction are its compute seconds over them, there are no
// dollars without a price, and a version not in memory has no cost.
func TestAdminModelCost(t *testing.T) {
	fx := newAdminFixture(t)
	for _, rows := range []int64{1, 5, 3} {
		fx.Infer(t, "/v2/models/m/infer", servertest.RequestJSON("input", "FP32", []int64{rows, 3}, testenv.Rows(uint64(rows), int(rows*3))))
	}
	// A request the server refuses reaches no version and costs none.
	if r := fx.Do(t, "POST", "/v2/models/m/infer", `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}`); r.Status != 400 {
		t.Fatalf("a request of the wrong shape = %d %s; want 400", r.Status, r.Body)
	}
	var one struct {
		Versions []struct {
			Version int
			State   string
			Cost    json.RawMessage
		}
	}
	if status := fx.adminGet(t, "/admin/models/m", testAdminToken, &one); status != 200 || len(one.Versions) != 3 {
		t.Fatalf("GET /admin/models/m = %d %+v", status, one)
	}
	var cost map[string]float64
	if err := json.Unmarshal(one.Versions[1].Cost, &cost); err != nil {
		t.Fatalf("version 2's cost %s: %v", one.Versions[1].Cost, err)
	}
	if len(cost) != 3 || cost["predictions"] != 9 || cost["compute_seconds"] <= 0 ||
		math.Abs(cost["seconds_per_prediction"]-cost["compute_seconds"]/9) > 1e-12 {
		t.Errorf("version 2's cost = %s; want 9 predictions, compute seconds, their quotient, and no dollars without a price", one.Versions[1].Cost)
	}
	if c := one.Versions[0].Cost; c == nil || string(c) != `{"compute_seconds":0,"predictions":0,"seconds_per_prediction":0}` {
		t.Errorf("version 1 (loaded, no traffic) cost = %s; want zeros", c)
	}
	if c := one.Versions[2].Cost; c != nil {
		t.Errorf("version 3 (%s) cost = %s; want none for a version not in memory", one.Versions[2].State, c)
	}
}

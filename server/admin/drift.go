package admin

import (
	"context"
	"fmt"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
	"github.com/switchyard-ml/switchyard/server/internal/openapi"
)

// DriftReports gives the operations API the drift monitor's latest
// reports: *drift.Monitor implements it.
type DriftReports interface {
	Report(model string, version int) drift.Report
}

// drift serves GET /admin/models/{m}/drift[?version=V]: the drift
// monitor's latest report of the model's versions, as it last judged
// them (the handler judges nothing). A version the monitor has not yet
// seen a request of has no entry.
func (s *Server) drift(_ context.Context, ctx *fasthttp.RequestCtx, p httpapi.Params) (any, error) {
	name := string(p.Get("model"))
	if s.cfg.Drift == nil {
		return nil, errNoDrift
	}
	m := s.models.Model(name)
	if m == nil {
		return nil, fmt.Errorf("%w: model %q", modelstore.ErrNotFound, name)
	}
	version := 0
	if raw := ctx.QueryArgs().Peek("version"); len(raw) > 0 {
		v, err := strconv.Atoi(string(raw))
		if err != nil || v < 1 {
			return nil, httpapi.RequestErrorf("version %q: want a positive integer", raw)
		}
		if m.Version(v) == nil {
			return nil, fmt.Errorf("%w: model %q has no version %d", modelstore.ErrNotFound, name, v)
		}
		version = v
	}
	return s.cfg.Drift.Report(name, version), nil
}

func driftOp() *openapi.Operation {
	return op("adminDrift", "The model's drift report",
		"model and versions: per version the newest full window's judgment (per feature the test, statistic, p-value or threshold, "+
			"drifted, reference and live summaries; the dataset drift share; the prediction drift), the window being filled, "+
			"or the reason there is no judgment.",
		openapi.ModelParam,
		query("version", "Only this version.", &openapi.Schema{Type: openapi.TypeInteger, Minimum: openapi.Bound(1)}))
}

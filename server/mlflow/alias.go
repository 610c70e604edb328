package mlflow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// alias serves registered-models/alias: POST sets, GET reads, DELETE
// removes.
func (s *Server) alias(ctx *fasthttp.RequestCtx) (any, error) {
	var req struct {
		Name    string `json:"name"`
		Alias   string `json:"alias"`
		Version string `json:"version"`
	}
	if ctx.IsGet() {
		req.Name, req.Alias = query(ctx, "name"), query(ctx, "alias")
	} else if err := decodeMLflowBody(ctx, &req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, missingParam("name")
	}
	if req.Alias == "" {
		return nil, missingParam("alias")
	}
	if _, err := s.modelDir(req.Name); err != nil {
		return nil, err
	}
	switch {
	case ctx.IsGet():
		aliases, err := s.aliases(ctx, req.Name)
		if err != nil {
			return nil, err
		}
		for _, a := range aliases {
			if a.Alias == req.Alias {
				mv, err := s.modelVersion(ctx, req.Name, a.Version)
				return modelVersionResponse{mv}, err
			}
		}
		return nil, fmt.Errorf("%w: registered model alias %s not found", tracking.ErrInvalid, req.Alias)
	case ctx.IsDelete():
		return empty{}, s.registry.DeleteAlias(ctx, req.Name, req.Alias)
	}
	if req.Version == "" {
		return nil, missingParam("version")
	}
	v, err := versionNumber(req.Version)
	if err != nil {
		return nil, err
	}
	if _, err := s.modelVersion(ctx, req.Name, v); err != nil {
		return nil, err
	}
	if err := s.rollOutAlias(ctx, req.Name, req.Alias, v); err != nil {
		return nil, err
	}
	return empty{}, s.registry.SetAlias(ctx, req.Name, req.Alias, v)
}

// The aliases that mean a rollout: champion is the stable version, and
// challenger the candidate (or shadow).
const (
	aliasChampion   = "champion"
	aliasChallenger = "challenger"
)

// aliases returns a model's aliases: those stored, with champion and
// challenger as the live rollout state says whatever was stored.
func (s *Server) aliases(ctx context.Context, name string) ([]tracking.Alias, error) {
	var out []tracking.Alias
	rm, err := s.registry.RegisteredModel(ctx, name)
	switch {
	case err == nil:
		out = rm.Aliases
	case !errors.Is(err, tracking.ErrNotFound):
		return nil, err
	}
	live := map[string]int{}
	if m := s.models.Model(name); m != nil {
		if m.Stable != nil {
			live[aliasChampion] = m.Stable.Number
		}
		if st := m.Rollout; st != nil && st.Candidate+st.Shadow != 0 {
			live[aliasChallenger] = max(st.Candidate, st.Shadow)
		}
	}
	out = slices.DeleteFunc(slices.Clone(out), func(a tracking.Alias) bool {
		return a.Alias == aliasChampion || a.Alias == aliasChallenger
	})
	for alias, v := range live {
		out = append(out, tracking.Alias{Alias: alias, Version: v})
	}
	slices.SortFunc(out, func(a, b tracking.Alias) int { return cmp.Compare(a.Alias, b.Alias) })
	return out, nil
}

// rollOutAlias gives champion and challenger their meaning: champion
// promotes the version with the model's strategy (its on_publish, or an
// immediate switch when that is manual), challenger starts it as a canary
// candidate. Other aliases are only names.
func (s *Server) rollOutAlias(ctx context.Context, name, alias string, version int) error {
	if alias != aliasChampion && alias != aliasChallenger {
		return nil
	}
	m := s.models.Model(name)
	if m == nil {
		return fmt.Errorf("%w: model version (name=%s, version=%d) is not loaded by this server", tracking.ErrNotFound, name, version)
	}
	strategy := rollout.Canary
	if alias == aliasChampion {
		strategy = m.Policy.OnPublish
		if strategy == rollout.Manual || strategy == "" {
			strategy = rollout.BlueGreen
		}
	}
	c := rollout.Change{Actor: "mlflow-api", Reason: "alias " + alias + " set through MLflow", Now: time.Now().UTC()}
	st, err := s.models.Desire(ctx, name, func(cur *rollout.State, serving, _ int) (*rollout.State, error) {
		if cur != nil && cur.Stable == version && alias == aliasChampion {
			return cur, nil // already the champion
		}
		return rollout.PlanPromote(cur, serving, version, strategy, m.Policy.Steps[0], c)
	})
	if err != nil {
		return fmt.Errorf("%w: %v", tracking.ErrInvalid, err)
	}
	return s.registry.Audit(ctx, tracking.Entry{Actor: c.Actor, Action: "promote", Model: name, Versions: []int{st.Stable, version},
		Reason: c.Reason, Details: map[string]any{"alias": alias, "strategy": st.Strategy, "weight_bp": st.Weight}})
}

package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
	"github.com/switchyard-ml/switchyard/tracking"
)

// defaultStrategy is the strategy of a promote that names none: a person
// who promotes without saying how means now. (The champion alias, set by
// tooling, follows the model's on_publish instead.)
const defaultStrategy = rollout.BlueGreen

// actionRequest is the body of POST /admin/models/{m}/promote, /rollback,
// /pause and /resume.
type actionRequest struct {
	Version  int    `json:"version"`
	Strategy string `json:"strategy"`
	Reason   string `json:"reason"`
	Actor    string `json:"actor"`
	// Force routes a promoted version although it failed its gate; the
	// override is audited with the reason.
	Force bool `json:"force"`
}

// promote serves POST /admin/models/{m}/promote: it starts routing the
// body's version to the model by the body's strategy.
func (s *Server) promote(ctx context.Context, req *fasthttp.RequestCtx, p httpapi.Params) (any, error) {
	return s.act(ctx, string(p.Get("model")), "promote", req.PostBody())
}

// rollback serves POST /admin/models/{m}/rollback: it routes the model
// back to its previous version at once.
func (s *Server) rollback(ctx context.Context, req *fasthttp.RequestCtx, p httpapi.Params) (any, error) {
	return s.act(ctx, string(p.Get("model")), "rollback", req.PostBody())
}

// pause serves POST /admin/models/{m}/pause: the model's rollout holds
// where it is.
func (s *Server) pause(ctx context.Context, req *fasthttp.RequestCtx, p httpapi.Params) (any, error) {
	return s.act(ctx, string(p.Get("model")), "pause", req.PostBody())
}

// resume serves POST /admin/models/{m}/resume: the model's rollout goes
// on.
func (s *Server) resume(ctx context.Context, req *fasthttp.RequestCtx, p httpapi.Params) (any, error) {
	return s.act(ctx, string(p.Get("model")), "resume", req.PostBody())
}

// act serves the rollout action called action on model name: it changes the model's
// rollout.json through the store (which routes by it before answering,
// so the next request follows it) and audits the change with its actor.
func (s *Server) act(ctx context.Context, name, action string, body []byte) (any, error) {
	var req actionRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, &httpapi.RequestError{Msg: "malformed JSON: " + err.Error()}
	}
	if req.Reason == "" {
		return nil, &httpapi.RequestError{Msg: `a reason is required: {"reason": "..."}`}
	}
	if req.Actor == "" {
		req.Actor = "admin-api"
	}
	c := rollout.Change{Actor: req.Actor, Reason: req.Reason, Now: time.Now().UTC()}
	var change modelstore.Change
	switch action {
	case "promote":
		if req.Version <= 0 {
			return nil, &httpapi.RequestError{Msg: `promote needs the version: {"version": N}`}
		}
		if req.Strategy == "" {
			req.Strategy = defaultStrategy
		}
		first := rollout.DefaultPolicy().Steps[0]
		if m := s.models.Model(name); m != nil && len(m.Policy.Steps) > 0 {
			first = m.Policy.Steps[0] // a canary starts at the model's first step
		}
		change = func(cur *rollout.State, serving, _ int) (*rollout.State, error) {
			return rollout.PlanPromote(cur, serving, req.Version, req.Strategy, first, c)
		}
	case "rollback":
		change = func(cur *rollout.State, serving, previous int) (*rollout.State, error) {
			return rollout.PlanRollback(cur, serving, previous, c)
		}
	default:
		paused := action == "pause"
		change = func(cur *rollout.State, serving, _ int) (*rollout.State, error) {
			return rollout.PlanPause(cur, serving, paused, c)
		}
	}
	if req.Force && action != "promote" {
		return nil, &httpapi.RequestError{Msg: "force applies to promote only"}
	}
	var st *rollout.State
	var err error
	if req.Force {
		st, err = s.models.Force(ctx, name, req.Version, change)
	} else {
		st, err = s.models.Desire(ctx, name, change)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", action, name, err)
	}
	if s.cfg.Store != nil {
		versions := []int{st.Stable}
		for _, v := range []int{st.Candidate, st.Shadow} {
			if v != 0 {
				versions = append(versions, v)
			}
		}
		err := s.cfg.Store.Audit(ctx, tracking.Entry{Actor: req.Actor, Action: action, Model: name, Versions: versions, Reason: req.Reason,
			Details: map[string]any{"stable": st.Stable, "candidate": st.Candidate, "shadow": st.Shadow, "strategy": st.Strategy,
				"weight_bp": st.Weight, "paused": st.Paused, "force": req.Force, "gate_overrides": st.GateOverrides}})
		if err != nil {
			// The change is in force; say loudly that its record is not.
			s.log.Error("rollout change applied but not audited", "model", name, "action", action, "error", err)
		}
	}
	return map[string]any{"model": name, "action": action, "state": st}, nil
}

package admin

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

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

// act serves the rollout action called action on model name: the
// service plans it, routes by it before answering (so the next request
// follows it) and audits it with its actor. A change in force whose audit
// entry could not be written is logged, not failed.
func (s *Server) act(ctx context.Context, name, action string, body []byte) (any, error) {
	if s.cfg.Ops == nil {
		return nil, errNoOps
	}
	var req actionRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, &httpapi.RequestError{Msg: "malformed JSON: " + err.Error()}
	}
	if req.Reason == "" {
		return nil, &httpapi.RequestError{Msg: `a reason is required: {"reason": "..."}`}
	}
	if req.Force && action != "promote" {
		return nil, &httpapi.RequestError{Msg: "force applies to promote only"}
	}
	if req.Actor == "" {
		req.Actor = "admin-api"
	}
	var st *rollout.State
	var err error
	switch action {
	case "promote":
		if req.Version <= 0 {
			return nil, &httpapi.RequestError{Msg: `promote needs the version: {"version": N}`}
		}
		st, err = s.cfg.Ops.Promote(ctx, name, ops.Promote{Version: req.Version, Strategy: req.Strategy, Force: req.Force,
			Actor: req.Actor, Reason: req.Reason})
	case "rollback":
		st, err = s.cfg.Ops.Rollback(ctx, name, req.Actor, req.Reason)
	case "pause":
		st, err = s.cfg.Ops.Pause(ctx, name, req.Actor, req.Reason)
	default:
		st, err = s.cfg.Ops.Resume(ctx, name, req.Actor, req.Reason)
	}
	if errors.Is(err, ops.ErrNotAudited) {
		// The change is in force; say loudly that its record is not.
		s.log.Error("rollout change applied but not audited", "model", name, "action", action, "error", err)
	} else if err != nil {
		return nil, err
	}
	return map[string]any{"model": name, "action": action, "state": st}, nil
}

package server

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// platform is what model metadata reports as the serving backend, as
// Triton names it.
const platform = "onnxruntime_onnx"

type tensorMetadata struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

type modelMetadata struct {
	Name     string           `json:"name"`
	Versions []string         `json:"versions"`
	Platform string           `json:"platform"`
	Inputs   []tensorMetadata `json:"inputs"`
	Outputs  []tensorMetadata `json:"outputs"`
}

// serverMetadata serves GET /v2.
func (s *Server) serverMetadata(ctx *fasthttp.RequestCtx) {
	httpapi.WriteJSON(ctx, fasthttp.StatusOK, map[string]any{
		"name":       "switchyard",
		"version":    Version,
		"extensions": []string{"model_repository", "binary_tensor_data"},
	})
}

// modelMetadata serves GET /v2/models/{m}[/versions/{v}]: the versions of
// the model that can serve, and the signature of the one asked for (the
// serving version when none is named).
func (s *Server) modelMetadata(ctx *fasthttp.RequestCtx, p httpapi.Params) {
	v, err := s.models.Lookup(string(p.Get("model")), p.Version())
	if err != nil {
		httpapi.WriteError(ctx, err)
		return
	}
	md := modelMetadata{
		Name:     v.Model,
		Versions: []string{},
		Platform: platform,
		Inputs:   tensorsMetadata(v.Signature.Inputs),
		Outputs:  tensorsMetadata(v.Signature.Outputs),
	}
	if m := s.models.Model(v.Model); m != nil {
		for _, mv := range m.Versions {
			if mv.State() == modelstore.Ready {
				md.Versions = append(md.Versions, mv.Label)
			}
		}
	}
	ctx.Response.Header.Set("X-Model-Version", v.Label)
	httpapi.WriteJSON(ctx, fasthttp.StatusOK, md)
}

func tensorsMetadata(ts []engine.TensorInfo) []tensorMetadata {
	out := make([]tensorMetadata, len(ts))
	for i, t := range ts {
		out[i] = tensorMetadata{Name: t.Name, Datatype: t.DType.String(), Shape: t.Shape}
	}
	return out
}

type indexEntry struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	State   string `json:"state"`
	Reason  string `json:"reason,omitempty"`
}

// repositoryIndex serves POST /v2/repository/index: every version of every
// model with its state and, where there is one, the reason for it. A body
// of {"ready": true} lists only versions that are ready.
func (s *Server) repositoryIndex(ctx *fasthttp.RequestCtx) {
	var q struct {
		Ready bool `json:"ready"`
	}
	if body := ctx.PostBody(); len(body) > 0 {
		if err := json.Unmarshal(body, &q); err != nil {
			httpapi.WriteError(ctx, &httpapi.RequestError{Msg: "malformed JSON: " + err.Error()})
			return
		}
	}
	index := []indexEntry{}
	for _, m := range s.models.Models() {
		for _, v := range m.Versions {
			if q.Ready && v.State() != modelstore.Ready {
				continue
			}
			index = append(index, newIndexEntry(v))
		}
	}
	httpapi.WriteJSON(ctx, fasthttp.StatusOK, index)
}

func newIndexEntry(v *modelstore.Version) indexEntry {
	return indexEntry{Name: v.Model, Version: v.Label, State: v.State().String(), Reason: v.Reason()}
}

// loadAnswer is the body of a repository load or unload: the model's
// versions as they stand once it has settled, and, when the load failed,
// the error.
type loadAnswer struct {
	Error    string       `json:"error,omitempty"`
	Versions []indexEntry `json:"versions"`
}

// repositoryLoad serves POST /v2/repository/models/{m}/load and /unload.
// Both wait until the model has settled. A load whose newest version did
// not become ready answers 400 with its reason, as Triton answers a
// failed load; the versions' states are in the body either way.
func (s *Server) repositoryLoad(ctx *fasthttp.RequestCtx, p httpapi.Params, load bool) {
	name := string(p.Get("model"))
	c, cancel := context.WithTimeout(context.Background(), s.cfg.LoadTimeout)
	defer cancel()
	var err error
	if load {
		err = s.models.Load(c, name)
	} else {
		err = s.models.Unload(c, name)
	}
	if err != nil {
		httpapi.WriteError(ctx, fmt.Errorf("%s %s: %w", loadVerb(load), name, err))
		return
	}
	ans := loadAnswer{Versions: []indexEntry{}}
	m := s.models.Model(name)
	if m != nil {
		for _, v := range m.Versions {
			ans.Versions = append(ans.Versions, newIndexEntry(v))
		}
	}
	status := fasthttp.StatusOK
	if load && m != nil && len(m.Versions) > 0 {
		if newest := m.Versions[len(m.Versions)-1]; newest.State() != modelstore.Ready {
			status = fasthttp.StatusBadRequest
			ans.Error = fmt.Sprintf("load %s: version %d is %s", name, newest.Number, newest.State())
			if reason := newest.Reason(); reason != "" {
				ans.Error += ": " + reason
			}
		}
	}
	httpapi.WriteJSON(ctx, status, ans)
}

func loadVerb(load bool) string {
	if load {
		return "load"
	}
	return "unload"
}

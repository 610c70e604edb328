package mlflow

import (
	"bytes"
	"fmt"
	"mime"
	"net/url"
	"path"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// artifacts serves MLflow's artifact proxy below
// /api/2.0/mlflow-artifacts/artifacts: PUT uploads the body to the path
// that follows, GET downloads it, and GET on the prefix itself with
// ?path=DIR lists a directory.
func (s *Server) artifacts(ctx *fasthttp.RequestCtx) {
	if s.artifactStore == nil {
		writeError(ctx, errNotConfigured)
		return
	}
	// The path as sent, not as fasthttp normalised it: a request for
	// ../secret must be refused, not quietly read as another path.
	raw, _, _ := strings.Cut(string(ctx.URI().PathOriginal()), "?")
	rest, err := url.PathUnescape(strings.TrimPrefix(raw, artifactsPrefix))
	if err != nil || !strings.HasPrefix(raw, artifactsPrefix) {
		writeError(ctx, &requestError{fmt.Sprintf("Invalid path %q", raw)})
		return
	}
	switch {
	case rest == "" || rest == "/":
		if !ctx.IsGet() {
			writeError(ctx, fmt.Errorf("%w: %s %s", errEndpointNotFound, ctx.Method(), ctx.Path()))
			return
		}
		s.listArtifacts(ctx, query(ctx, "path"))
	case !strings.HasPrefix(rest, "/"):
		writeError(ctx, fmt.Errorf("%w: %s", errEndpointNotFound, ctx.Path()))
	case ctx.IsPut():
		if _, err := s.artifactStore.Put(rest[1:], bytes.NewReader(ctx.PostBody())); err != nil {
			writeError(ctx, err)
			return
		}
		ctx.SetContentType(httpapi.ContentTypeJSON)
		ctx.SetBodyString("{}")
	case ctx.IsGet():
		f, err := s.artifactStore.Open(rest[1:])
		if err != nil {
			writeError(ctx, err)
			return
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			writeError(ctx, err)
			return
		}
		name := path.Base(rest)
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		ctx.SetContentType(ct)
		ctx.Response.Header.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
		ctx.SetBodyStream(f, int(fi.Size())) // fasthttp closes f once sent
	default:
		ctx.Response.Header.Set("Allow", "GET, PUT")
		writeError(ctx, fmt.Errorf("%w: %s %s", errEndpointNotFound, ctx.Method(), ctx.Path()))
	}
}

type artifactFileJSON struct {
	Path     string `json:"path"`
	IsDir    bool   `json:"is_dir"`
	FileSize int64  `json:"file_size,omitempty"`
}

// listArtifacts answers {"files": [...]} with the entries' names, as
// MLflow's proxy does; a file or a missing directory lists as {}.
func (s *Server) listArtifacts(ctx *fasthttp.RequestCtx, dir string) {
	files, err := s.artifactStore.List(dir)
	if err != nil {
		writeError(ctx, err)
		return
	}
	out := struct {
		Files []artifactFileJSON `json:"files,omitempty"`
	}{}
	for _, f := range files {
		out.Files = append(out.Files, artifactFileJSON{Path: f.Name, IsDir: f.IsDir, FileSize: f.Size})
	}
	httpapi.WriteJSON(ctx, fasthttp.StatusOK, out)
}

package mlflow

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
	"github.com/switchyard-ml/switchyard/tracking"
)

// artifacts serves MLflow's artifact proxy below
// /api/2.0/mlflow-artifacts/artifacts: PUT uploads the body to the path
// that follows, GET downloads it, and GET on the prefix itself with
// ?path=DIR lists a directory. Paths below registry/ are the registry's
// versions, read-only (see download.go).
func (s *Server) artifacts(ctx *fasthttp.RequestCtx) {
	// The path as sent, not as fasthttp normalised it: a request for
	// ../secret must be refused, not quietly read as another path.
	raw, _, _ := strings.Cut(string(ctx.URI().PathOriginal()), "?")
	rest, err := url.PathUnescape(strings.TrimPrefix(raw, artifactsPrefix))
	if err != nil || !strings.HasPrefix(raw, artifactsPrefix) {
		writeError(ctx, &requestError{fmt.Sprintf("Invalid path %q", raw)})
		return
	}
	listing := (rest == "" || rest == "/") && ctx.IsGet()
	switch {
	case listing && isRegistryPath(query(ctx, "path")):
		s.listRegistryArtifacts(ctx, query(ctx, "path"))
		return
	case strings.HasPrefix(rest, "/") && isRegistryPath(rest[1:]):
		s.registryArtifact(ctx, rest[1:])
		return
	case s.artifactStore == nil:
		writeError(ctx, errNotConfigured)
		return
	}
	switch {
	case listing:
		s.listArtifacts(ctx, query(ctx, "path"))
	case rest == "" || rest == "/":
		writeError(ctx, fmt.Errorf("%w: %s %s", errEndpointNotFound, ctx.Method(), ctx.Path()))
	case !strings.HasPrefix(rest, "/"):
		writeError(ctx, fmt.Errorf("%w: %s", errEndpointNotFound, ctx.Path()))
	case ctx.IsPut():
		s.putArtifact(ctx, rest[1:])
	case ctx.IsGet():
		f, err := s.artifactStore.Open(rest[1:])
		if err != nil {
			writeError(ctx, err)
			return
		}
		serveFile(ctx, f, rest)
	default:
		ctx.Response.Header.Set("Allow", "GET, PUT")
		writeError(ctx, fmt.Errorf("%w: %s %s", errEndpointNotFound, ctx.Method(), ctx.Path()))
	}
}

// serveFile answers the file f, named p, as an attachment, and closes it.
func serveFile(ctx *fasthttp.RequestCtx, f *os.File, p string) {
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		writeError(ctx, err)
		return
	}
	name := path.Base(p)
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	ctx.SetContentType(ct)
	ctx.Response.Header.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	ctx.SetBodyStream(f, int(fi.Size())) // fasthttp closes f once sent
}

// DefaultMaxArtifactBytes is the artifact size limit when
// Config.MaxArtifactBytes is 0: 2 GiB, as for a model
// (modelstore.DefaultMaxModelBytes), so that any model the registry takes
// can be logged as an artifact first.
const DefaultMaxArtifactBytes = modelstore.DefaultMaxModelBytes

// putArtifact stores the body of an upload as the artifact at p. The
// body is streamed to disk as it arrives, so it is bounded by
// Config.MaxArtifactBytes, not by the server's request body limit: a
// body declared longer is refused before it is read, and a chunked one
// once it passes the limit. Whatever fails, the artifact store keeps
// nothing of the upload.
func (s *Server) putArtifact(ctx *fasthttp.RequestCtx, p string) {
	limit := s.cfg.MaxArtifactBytes
	if limit <= 0 {
		limit = DefaultMaxArtifactBytes
	}
	n := ctx.Request.Header.ContentLength() // -1: chunked
	if int64(n) > limit {
		writeError(ctx, uploadTooLarge(limit))
		return
	}
	u := upload{r: ctx.RequestBodyStream(), left: limit, limit: limit, declared: int64(n),
		ctx: ctx, timeout: s.cfg.UploadReadTimeout}
	if u.r == nil { // the body is in memory already
		u.r = bytes.NewReader(ctx.PostBody())
	}
	if _, err := s.artifactStore.Put(p, &u); err != nil {
		if u.err != nil { // the body failed, not the store
			err = u.err
		}
		writeError(ctx, err)
		return
	}
	ctx.SetContentType(httpapi.ContentTypeJSON)
	ctx.SetBodyString("{}")
}

// upload reads an upload's body for the artifact store, up to limit
// bytes. It records in err why the body failed: too long
// (errArtifactTooLarge) or broken off by the client. fasthttp's stream
// ends a body whose client went away with io.EOF, so a body shorter than
// its declared length (declared, -1 when chunked) fails here.
type upload struct {
	r               io.Reader
	left, limit     int64
	declared, count int64
	err             error
	// ctx and timeout, when positive, push the connection's read
	// deadline timeout past each read.
	ctx     *fasthttp.RequestCtx
	timeout time.Duration
}

// Read implements io.Reader.
func (u *upload) Read(p []byte) (int, error) {
	if u.timeout > 0 {
		u.ctx.SetReadDeadline(time.Now().Add(u.timeout))
	}
	if int64(len(p)) > u.left+1 {
		p = p[:u.left+1] // one byte more than allowed tells a body too long
	}
	n, err := u.r.Read(p)
	if int64(n) > u.left {
		u.err = uploadTooLarge(u.limit)
		return 0, u.err
	}
	u.left -= int64(n)
	u.count += int64(n)
	if err == io.EOF && u.declared >= 0 && u.count < u.declared {
		err = fmt.Errorf("the body ended after %d of its %d bytes: %w", u.count, u.declared, io.ErrUnexpectedEOF)
	}
	if err != nil && err != io.EOF {
		u.err = &requestError{"cannot read the upload: " + err.Error()}
		return n, u.err
	}
	return n, err
}

func uploadTooLarge(limit int64) error {
	return fmt.Errorf("%w: an artifact may hold at most %d bytes", errArtifactTooLarge, limit)
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
	writeArtifactList(ctx, files)
}

// writeArtifactList answers {"files": [...]} with the entries' names.
func writeArtifactList(ctx *fasthttp.RequestCtx, files []tracking.ArtifactFile) {
	out := struct {
		Files []artifactFileJSON `json:"files,omitempty"`
	}{}
	for _, f := range files {
		out.Files = append(out.Files, artifactFileJSON{Path: f.Name, IsDir: f.IsDir, FileSize: f.Size})
	}
	httpapi.WriteJSON(ctx, fasthttp.StatusOK, out)
}

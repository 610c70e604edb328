package mlflow

// The registry's versions through the artifact proxy: model-versions/
// get-download-uri (MLflow's GetModelVersionDownloadUri) answers
// mlflow-artifacts:/registry/NAME/VERSION, which the client resolves to
// /api/2.0/mlflow-artifacts/artifacts/registry/NAME/VERSION, where the
// proxy serves the version directory's files read-only. Run artifacts
// live below experiment ids, which are numbers, so the prefix cannot
// name one.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/tracking"
)

// registryArtifacts is the first segment of the artifact proxy's paths
// that name a registry version's files.
const registryArtifacts = "registry"

// downloadURI is the artifact URI of a version's files.
func downloadURI(name string, version int) string {
	return "mlflow-artifacts:/" + registryArtifacts + "/" + name + "/" + strconv.Itoa(version)
}

// getDownloadURI answers {"artifact_uri"} for a version that exists.
func (s *Server) getDownloadURI(ctx *request) (any, error) {
	name, version := query(ctx, "name"), query(ctx, "version")
	if name == "" {
		return nil, missingParam("name")
	}
	if version == "" {
		return nil, missingParam("version")
	}
	v, err := versionNumber(version)
	if err != nil {
		return nil, err
	}
	if _, err := s.modelVersion(ctx, name, v); err != nil {
		return nil, err
	}
	return struct {
		ArtifactURI string `json:"artifact_uri"`
	}{downloadURI(name, v)}, nil
}

// isRegistryPath reports whether an artifact path (without its leading
// slash) is below the registry prefix.
func isRegistryPath(p string) bool {
	return p == registryArtifacts || strings.HasPrefix(p, registryArtifacts+"/")
}

// versionFiles opens the files of the version that p names
// (registry/NAME/VERSION[/FILE...]) as a read-only artifact store, and
// returns the path of FILE within it ("" for the directory itself). The
// version is opened through an os.Root on the registry, so a symlinked
// model or version directory cannot lead out of it, and read through one
// on the version directory, so neither ".." nor a symlink leads out of
// that. It fails with tracking.ErrNotFound when p names no complete
// version, tracking.ErrInvalid when it is malformed, and errNotConfigured
// on a server without a registry. The caller closes the store.
func (s *Server) versionFiles(p string) (*tracking.Artifacts, string, error) {
	if s.registry == nil || s.cfg.RegistryDir == "" {
		return nil, "", errNotConfigured
	}
	parts := strings.SplitN(p, "/", 4)
	if len(parts) < 3 || parts[0] != registryArtifacts {
		return nil, "", fmt.Errorf("%w: '%s' names no model version: use %s/NAME/VERSION", tracking.ErrNotFound, p, registryArtifacts)
	}
	name, num := parts[1], parts[2]
	n, err := strconv.Atoi(num)
	if !modelstore.ValidName(name) || err != nil || n <= 0 || strconv.Itoa(n) != num {
		return nil, "", fmt.Errorf("%w: model version (name=%s, version=%s) not found", tracking.ErrNotFound, name, num)
	}
	complete, _, err := modelstore.Versions(s.cfg.RegistryDir, name)
	if err != nil || !slices.Contains(complete, n) {
		return nil, "", fmt.Errorf("%w: model version (name=%s, version=%d) not found", tracking.ErrNotFound, name, n)
	}
	reg, err := os.OpenRoot(s.cfg.RegistryDir)
	if err != nil {
		return nil, "", fmt.Errorf("open registry: %w", err)
	}
	defer reg.Close()
	root, err := reg.OpenRoot(filepath.Join(name, num))
	if err != nil {
		return nil, "", fmt.Errorf("%w: model version (name=%s, version=%d) cannot be read: %v", tracking.ErrInvalid, name, n, err)
	}
	file := ""
	if len(parts) == 4 {
		file = parts[3]
	}
	return tracking.ArtifactsIn(root), file, nil
}

// registryArtifact serves a request below the registry prefix: GET reads
// a file of a version; every write is refused.
func (s *Server) registryArtifact(ctx *fasthttp.RequestCtx, p string) {
	if !ctx.IsGet() {
		writeError(ctx, fmt.Errorf("%w: %s %s", errRegistryReadOnly, ctx.Method(), ctx.Path()))
		return
	}
	files, file, err := s.versionFiles(p)
	if err != nil {
		writeError(ctx, err)
		return
	}
	defer files.Close()
	f, err := files.Open(file)
	if err != nil {
		writeError(ctx, err)
		return
	}
	serveFile(ctx, f, p)
}

// listRegistryArtifacts lists a directory of a version.
func (s *Server) listRegistryArtifacts(ctx *fasthttp.RequestCtx, p string) {
	files, dir, err := s.versionFiles(p)
	if err != nil {
		writeError(ctx, err)
		return
	}
	defer files.Close()
	entries, err := files.List(dir)
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeArtifactList(ctx, entries)
}

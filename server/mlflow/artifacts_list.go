package mlflow

import (
	"fmt"
	"path"
	"strings"
)

// listRunArtifacts answers MLflow's ListArtifacts (GET artifacts/list
// with run_id, or the older run_uuid, and path): {"root_uri", "files"}
// where each file's path is relative to the run's artifact root, as
// MLflow's server answers. Every entry comes in one page: page_token is
// accepted and no next_page_token is given, as MLflow's own server does.
// A path with "..", an absolute one or a backslash is
// INVALID_PARAMETER_VALUE; a path that names a file or nothing lists
// nothing; an unknown run is RESOURCE_DOES_NOT_EXIST.
func (s *Server) listRunArtifacts(ctx *request) (any, error) {
	id := query(ctx, "run_id")
	if id == "" {
		id = query(ctx, "run_uuid")
	}
	if id == "" {
		return nil, missingParam("run_id")
	}
	dir := query(ctx, "path")
	if bad := strings.ContainsAny(dir, "\\\x00") || path.IsAbs(dir) || strings.Contains("/"+dir+"/", "/../"); bad {
		return nil, &requestError{fmt.Sprintf("Invalid path '%s': it may not be absolute or contain '..'", dir)}
	}
	dir = strings.Trim(dir, "/")
	run, err := s.tracking.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	out := struct {
		RootURI string             `json:"root_uri"`
		Files   []artifactFileJSON `json:"files,omitempty"`
	}{RootURI: run.Info.ArtifactURI}
	stored, ok := strings.CutPrefix(run.Info.ArtifactURI, "mlflow-artifacts:/")
	if !ok || s.artifactStore == nil {
		return out, nil // not in this server's artifact store: nothing it can list
	}
	files, err := s.artifactStore.List(path.Join(stored, dir))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		fj := artifactFileJSON{Path: path.Join(dir, f.Name), IsDir: f.IsDir}
		if !f.IsDir {
			fj.FileSize = f.Size
		}
		out.Files = append(out.Files, fj)
	}
	return out, nil
}

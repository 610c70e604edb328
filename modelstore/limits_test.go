package modelstore_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/internal/regfile"
	"github.com/switchyard-ml/switchyard/internal/regfile/regfiletest"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

// refusal is what a reason or an error says for a probe.
func refusal(p regfiletest.Probe) string {
	if p.Want == regfile.ErrTooLarge {
		return "over the limit of"
	}
	return "not a regular file"
}

// replace puts probe p at path in place of what is there.
func replace(t *testing.T, p regfiletest.Probe, path string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	p.Make(t, path)
}

// TestRegistryFilesProbed puts the probes of issue 23 (/dev/zero, a FIFO,
// a directory, a sparse file just over the limit) where each file of a
// registry belongs. Each is refused before it is read, with a reason
// naming the file: the version (or the model, for policy.yaml) fails, the
// rest keeps serving, nothing blocks, and the peak RSS stays flat
// although model.onnx is a sparse file of 2 GiB.
func TestRegistryFilesProbed(t *testing.T) {
	dir := t.TempDir()
	type target struct {
		model, file string
		limit       int64
	}
	var targets []target
	for _, p := range regfiletest.Probes(0) {
		for _, tg := range []target{
			{"model-" + p.Name, modelstore.ModelFile, modelstore.DefaultMaxModelBytes},
			{"manifest-" + p.Name, modelstore.ManifestFile, modelstore.MaxManifestBytes},
			{"policy-" + p.Name, modelstore.PolicyFile, modelstore.MaxPolicyBytes},
			{"rollout-" + p.Name, rollout.StateFile, rollout.MaxStateBytes},
		} {
			testenv.Publish(t, dir, tg.model, small(1))
			testenv.Publish(t, dir, tg.model, small(2))
			targets = append(targets, tg)
		}
	}
	probes := map[string]regfiletest.Probe{}
	for _, tg := range targets {
		name := tg.model[strings.IndexByte(tg.model, '-')+1:]
		for _, p := range regfiletest.Probes(tg.limit) {
			if p.Name != name {
				continue
			}
			probes[tg.model] = p
			path := filepath.Join(dir, tg.model, tg.file)
			if tg.file == modelstore.ModelFile || tg.file == modelstore.ManifestFile {
				path = filepath.Join(modelstore.VersionDir(dir, tg.model, 2), tg.file)
			}
			replace(t, p, path)
		}
	}
	before := regfiletest.PeakResidentBytes(t)
	st := openStore(t, dir)
	if grew := regfiletest.PeakResidentBytes(t) - before; grew > 512<<20 {
		t.Errorf("opening the probed registry raised the peak RSS by %d MiB; want under 512 MiB", grew>>20)
	}
	for _, tg := range targets {
		p := probes[tg.model]
		m := st.Model(tg.model)
		switch tg.file {
		case modelstore.ModelFile, modelstore.ManifestFile:
			v := m.Version(2)
			if v.State() != modelstore.Failed || !strings.Contains(v.Reason(), tg.file) || !strings.Contains(v.Reason(), refusal(p)) {
				t.Errorf("%s: version 2 %s, %q; want FAILED naming %s and %q", tg.model, v.State(), v.Reason(), tg.file, refusal(p))
			}
			if got := serving(st, tg.model); got != 1 {
				t.Errorf("%s: serving %d (%s); want 1", tg.model, got, states(st, tg.model))
			}
		case modelstore.PolicyFile:
			v := m.Version(2)
			if v.State() != modelstore.Failed || !strings.Contains(v.Reason(), modelstore.ErrPolicy.Error()) || !strings.Contains(v.Reason(), refusal(p)) {
				t.Errorf("%s: version 2 %s, %q; want FAILED for policy.yaml, %q", tg.model, v.State(), v.Reason(), refusal(p))
			}
		case rollout.StateFile: // refused and logged: the newest version serves
			if got := serving(st, tg.model); got != 2 {
				t.Errorf("%s: serving %d (%s); want 2", tg.model, got, states(st, tg.model))
			}
		}
	}
}

// TestReadersProbed reads each probe through the exported readers of
// registry and publish files.
func TestReadersProbed(t *testing.T) {
	readers := []struct {
		name  string
		limit int64
		read  func(path string) error
	}{
		{modelstore.ManifestFile, modelstore.MaxManifestBytes, func(path string) error {
			_, err := modelstore.ReadManifest(filepath.Dir(path))
			return err
		}},
		{modelstore.PolicyFile, modelstore.MaxPolicyBytes, func(path string) error {
			_, err := modelstore.ReadPolicy(path)
			if err != nil && !errors.Is(err, modelstore.ErrPolicy) {
				t.Errorf("ReadPolicy error %v does not wrap ErrPolicy", err)
			}
			return err
		}},
		{"schema.yaml", modelstore.MaxSchemaBytes, func(path string) error {
			_, err := modelstore.ReadSchemaFile(path)
			return err
		}},
		{modelstore.ModelFile, 1 << 20, func(path string) error {
			_, err := modelstore.ReadModel(path, 1<<20, "--max-model-bytes")
			return err
		}},
	}
	for _, r := range readers {
		for _, p := range regfiletest.Probes(r.limit) {
			t.Run(r.name+"/"+p.Name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), r.name)
				p.Make(t, path)
				err := r.read(path)
				if !errors.Is(err, p.Want) || !strings.Contains(err.Error(), path) {
					t.Fatalf("read %s = %v; want an error matching %v naming the file", p.Name, err, p.Want)
				}
			})
		}
	}
}

// TestMaxModelBytes loads a model under a limit below its size: the
// version fails naming the limit and the setting that raises it.
func TestMaxModelBytes(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "m", small(1))
	st, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, MaxModelBytes: 64, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	v := st.Model("m").Version(1)
	if v.State() != modelstore.Failed || !strings.Contains(v.Reason(), "over the limit of 64 bytes; raise serve --max-model-bytes") {
		t.Fatalf("version 1 %s, %q; want FAILED naming the limit and --max-model-bytes", v.State(), v.Reason())
	}
	if _, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, MaxModelBytes: -1}); !errors.Is(err, modelstore.ErrConfig) {
		t.Fatalf("Open(MaxModelBytes -1) = %v; want ErrConfig", err)
	}
}

// TestEvalSetProbed puts the probes where a version's eval.csv belongs:
// the gate refuses the set before reading it, and the version fails with
// the file named.
func TestEvalSetProbed(t *testing.T) {
	dir := t.TempDir()
	probes := regfiletest.Probes(gate.DefaultMaxBytes)
	for _, p := range probes {
		n := publishJudged(t, dir, p.Name, goodWeights, evalCSV(50))
		replace(t, p, filepath.Join(modelstore.VersionDir(dir, p.Name, n), modelstore.EvalFile))
	}
	st := openWatching(t, modelstore.Config{Dir: dir})
	for _, p := range probes {
		v := st.Model(p.Name).Versions[0]
		if v.State() != modelstore.Failed || !strings.Contains(v.Reason(), modelstore.EvalFile) || !strings.Contains(v.Reason(), refusal(p)) {
			t.Errorf("%s: %s, %q; want FAILED naming %s and %q", p.Name, v.State(), v.Reason(), modelstore.EvalFile, refusal(p))
		}
	}
}

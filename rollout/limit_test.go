package rollout

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/regfile/regfiletest"
)

// TestReadStateProbed reads the probes of issue 23 as rollout.json: each
// is refused before it is read, naming the file, and a FIFO does not
// block.
func TestReadStateProbed(t *testing.T) {
	for _, p := range regfiletest.Probes(MaxStateBytes) {
		t.Run(p.Name, func(t *testing.T) {
			dir := t.TempDir()
			p.Make(t, filepath.Join(dir, StateFile))
			s, err := ReadState(dir)
			if s != nil || !errors.Is(err, ErrState) || !errors.Is(err, p.Want) || !strings.Contains(err.Error(), StateFile) {
				t.Fatalf("ReadState(%s) = %v, %v; want an error wrapping ErrState and %v naming %s", p.Name, s, err, p.Want, StateFile)
			}
		})
	}
}

package server

import (
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/server/internal/openapi"
)

// maxExampleBytes is how much of eval.csv exampleRecord reads: a header
// and a first row longer than this give no example.
const maxExampleBytes = 1 << 20

// exampleRecord returns the example record of sch, its fields in schema
// order: the cells of the first row of the evaluation set the gate reads
// for the version in dir (its own eval.csv, publish --eval, else its
// model's), matched to the features by their header names as the gate
// matches them, where a cell holds a value the records API accepts; the
// schema's example (exampleValue) for every feature the set gives none
// for, and for all of them when there is no readable set. It reports
// whether any value came from the set.
func exampleRecord(dir string, sch *recordSchema) (openapi.Map[any], bool) {
	example := make(openapi.Map[any], 0, len(sch.features))
	for i := range sch.features {
		example.Add(sch.features[i].Name, exampleValue(&sch.features[i]))
	}
	names, cells := firstEvalRow(dir)
	fromSet := false
	for i := range sch.features {
		f := &sch.features[i]
		k := slices.Index(names, f.Name)
		if k < 0 {
			continue
		}
		if v, ok := cellValue(f, cells[k]); ok {
			example[i].Value, fromSet = v, true
		}
	}
	return example, fromSet
}

// firstEvalRow returns the header names and first row of the evaluation
// set of the version in dir, the one the gate reads: eval.csv in dir, else
// in its model's directory. It returns nothing when there is none or it
// cannot be read.
func firstEvalRow(dir string) (names, cells []string) {
	if dir == "" {
		return nil, nil
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		f, err := os.Open(filepath.Join(d, modelstore.EvalFile))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil
		}
		names, cells, err = gate.FirstRow(io.LimitReader(f, maxExampleBytes))
		f.Close()
		if err != nil {
			return nil, nil
		}
		return names, cells
	}
	return nil, nil
}

// cellValue returns the value an eval.csv cell stands for in a record of
// feature f, as the gate reads it (a number, a category's value, a bool
// as true, false, 1 or 0), and whether the records API accepts it.
func cellValue(f *modelstore.Feature, cell string) (any, bool) {
	switch f.Type {
	case modelstore.TypeNumber, modelstore.TypeInteger:
		x, err := strconv.ParseFloat(cell, 64)
		if err != nil || math.IsNaN(x) || math.Abs(x) > math.MaxFloat32 || bounds(f, x) != faultNone ||
			f.Type == modelstore.TypeInteger && (x != math.Trunc(x) || math.Abs(x) > 1<<53) {
			return nil, false
		}
		return x, true
	case modelstore.TypeCategory:
		return cell, slices.Contains(f.Values, cell)
	case modelstore.TypeBool:
		switch {
		case cell == "1" || strings.EqualFold(cell, "true"):
			return true, true
		case cell == "0" || strings.EqualFold(cell, "false"):
			return false, true
		}
	}
	return nil, false
}

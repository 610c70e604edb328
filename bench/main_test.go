package bench

import (
	"testing"

	"github.com/switchyard-ml/switchyard/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

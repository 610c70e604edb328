package mlflow_test

import (
	"testing"

	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/server"
	"github.com/switchyard-ml/switchyard/server/internal/servertest"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// Config is the server's configuration, under a short name for the tests.
type Config = server.Config

// testServer is a served registry with this package's helpers.
type testServer struct{ *servertest.Server }

// serveRegistry serves the registry at dir until the test ends.
func serveRegistry(t *testing.T, dir string, cfg Config) *testServer {
	t.Helper()
	return &testServer{servertest.Serve(t, dir, cfg)}
}

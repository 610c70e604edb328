package deploy

import (
	"os"
	"os/exec"
	"testing"
)

// onCI reports whether the tests run on CI, which installs every tool they
// use: a missing one fails there instead of skipping.
func onCI() bool { return os.Getenv("CI") == "true" }

// tool returns the path of the command name. Off CI, a missing one skips
// the test, saying so and how to install it (install); on CI it fails.
func tool(t *testing.T, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if onCI() {
			t.Fatalf("%s is missing on CI (%s): %v", name, install, err)
		}
		t.Skipf("%s is not installed (%s); skipping", name, install)
	}
	return path
}

// promtool runs promtool with args in prometheus/ and fails the test
// with its output if it fails.
func promtool(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(tool(t, "promtool", "make promtool installs it"), args...)
	cmd.Dir = "prometheus"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool %v: %v\n%s", args, err, out)
	}
}

// TestPrometheusConfig checks compose's Prometheus configuration and the
// alert rules it loads.
func TestPrometheusConfig(t *testing.T) {
	promtool(t, "check", "config", "prometheus.yml")
}

// TestAlertRules runs the rules' unit tests: each alert fires when it
// should and stays quiet when it should not.
func TestAlertRules(t *testing.T) {
	promtool(t, "test", "rules", "alerts_test.yml")
}

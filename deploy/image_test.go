package deploy

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// imageTestEnv turns TestImage on; `make image-test` sets it.
const imageTestEnv = "SWITCHYARD_IMAGE_TEST"

// imageTag is the tag TestImage builds.
const imageTag = "localhost/switchyard:test"

// storage is the container storage the image tests use: vfs works where
// overlay mounts are not permitted, as in unprivileged sandboxes.
var storage = []string{"--storage-driver", "vfs"}

// predictBody is a record of the demo's fraud model, as the demo prints it.
const predictBody = `{"instances":[{"amount":1723.48,"hour":12,"distance_from_home_km":61.5,"transactions_last_24h":3,` +
	`"card_age_days":284,"avg_amount_30d":182.43,"card_present":false,"merchant_category":"electronics","country":"FR"}]}`

// run runs name with args in dir and fails the test with its output if
// it fails; it returns the output.
func run(t *testing.T, dir, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, tailOf(out))
	}
	return out
}

// tailOf returns the end of out.
func tailOf(out []byte) string {
	if len(out) > 6000 {
		return "..." + string(out[len(out)-6000:])
	}
	return string(out)
}

// imageConfig is the part of buildah inspect's output TestImage checks.
type imageConfig struct {
	Docker struct {
		Config struct {
			User         string              `json:"User"`
			Entrypoint   []string            `json:"Entrypoint"`
			Cmd          []string            `json:"Cmd"`
			Env          []string            `json:"Env"`
			Volumes      map[string]struct{} `json:"Volumes"`
			ExposedPorts map[string]struct{} `json:"ExposedPorts"`
			Healthcheck  *struct {
				Test []string `json:"Test"`
			} `json:"Healthcheck"`
		} `json:"config"`
	} `json:"Docker"`
}

// TestImage builds the Dockerfile with buildah on local stand-ins for its
// base images (scripts/image-standins.sh: no image registry is reachable
// from the machines this project runs on), checks the image's
// configuration, then runs `make run`'s demo in it, as the Dockerfile's
// one docker run does, and sends it a prediction and the health check. It takes minutes, so it runs only under `make
// image-test`.
func TestImage(t *testing.T) {
	if os.Getenv(imageTestEnv) != "1" {
		t.Skipf("building the image takes minutes: make image-test runs it (%s=1)", imageTestEnv)
	}
	buildah := tool(t, "buildah", "make image-test installs it")
	tool(t, "debootstrap", "make image-test installs it")
	run(t, "..", "scripts/image-standins.sh", storage...)
	run(t, "..", buildah, append(storage, "bud", "--isolation", "chroot", "--format", "docker", "--pull-never",
		"--layers", "-t", imageTag, ".")...)

	var img imageConfig
	if err := json.Unmarshal(run(t, "..", buildah, append(storage, "inspect", "--type", "image", imageTag)...), &img); err != nil {
		t.Fatal(err)
	}
	cfg := img.Docker.Config
	if cfg.User == "" || cfg.User == "0" || strings.HasPrefix(cfg.User, "root") || strings.HasPrefix(cfg.User, "0:") {
		t.Errorf("the image runs as %q; want a user without privileges", cfg.User)
	}
	if cfg.Healthcheck == nil || !slices.Contains(cfg.Healthcheck.Test, "switchyard-healthcheck") {
		t.Errorf("the image's health check is %+v; want switchyard-healthcheck", cfg.Healthcheck)
	}
	for _, v := range []string{"/var/lib/switchyard/registry", "/var/lib/switchyard/data"} {
		if _, ok := cfg.Volumes[v]; !ok {
			t.Errorf("the image's volumes %v lack %s", cfg.Volumes, v)
		}
	}
	if _, ok := cfg.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("the image exposes %v; want 8080/tcp", cfg.ExposedPorts)
	}

	// `make run`'s demo, as the Dockerfile's comment runs it, in a
	// container of the image on the host's loopback. buildah runs it:
	// podman's runtime cannot set its limits or cgroups in the sandboxes
	// this project's machines are.
	ctr := strings.TrimSpace(string(run(t, "..", buildah, append(storage, "from", "--pull-never", imageTag)...)))
	t.Cleanup(func() { exec.Command(buildah, append(storage, "rm", ctr)...).Run() })
	inside := func(args ...string) *exec.Cmd {
		return exec.Command(buildah, append(storage, append([]string{"run", "--isolation", "chroot", "--network", "host", ctr, "--"}, args...)...)...)
	}
	addr := freeAddr(t)
	out := &syncBuffer{}
	demo := inside("switchyard", "demo", "--serve", "--registry", "/var/lib/switchyard/registry", "--addr", addr)
	demo.Stdout, demo.Stderr = out, out
	if err := demo.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { demo.Wait(); close(exited) }()
	t.Cleanup(func() {
		demo.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(time.Minute):
			demo.Process.Kill()
			<-exited
		}
	})
	logs := func() string { return "\n--- the container's output:\n" + tailOf([]byte(out.String())) }
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		resp, err := client.Get("http://" + addr + "/v2/models/fraud/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-exited:
			t.Fatalf("the container's demo exited%s", logs())
		case <-time.After(time.Second):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container's demo did not serve fraud within 3 minutes (%v)%s", err, logs())
		}
	}
	resp, err := client.Post("http://"+addr+"/v1/models/fraud:predict", "application/json", strings.NewReader(predictBody))
	if err != nil {
		t.Fatalf("predict: %v%s", err, logs())
	}
	var answer struct {
		Predictions  []json.RawMessage `json:"predictions"`
		ModelVersion string            `json:"model_version"`
	}
	err = json.NewDecoder(resp.Body).Decode(&answer)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(answer.Predictions) != 1 || answer.ModelVersion == "" {
		t.Fatalf("predict = %d, %+v, %v; want one prediction and its version%s", resp.StatusCode, answer, err, logs())
	}
	if out, err := inside("env", "SWITCHYARD_HEALTH_ADDR="+addr, "switchyard-healthcheck").CombinedOutput(); err != nil {
		t.Errorf("the health check in the container: %v: %s", err, out)
	}
	if out, err := inside("id", "-u").Output(); err != nil || strings.TrimSpace(string(out)) != "10001" {
		t.Errorf("the container's commands run as uid %q (%v); want 10001, the image's user", out, err)
	}
}

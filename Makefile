# switchyard: `make run` serves the demo and rolls its second version out, `make test` runs every test.
GO      ?= go
ADDR    ?= localhost:8080
REGISTRY ?= registry
BIN     := bin/switchyard

# The binary and the tests find onnxruntime through this variable; `make ort`
# puts the library there.
ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x64)
export SWITCHYARD_ORT_LIB ?= $(CURDIR)/.cache/ort/1.24.1/linux-$(ARCH)/libonnxruntime.so.1

.PHONY: all build ort chromium nats postgres mlflow-npm promtool image-test run test vet bench bench-smoke fuzz fuzz-smoke soak loop screenshot fleet-test

all: build

build:
	$(GO) build -o $(BIN) ./cmd/switchyard

# Fetch onnxruntime once (from the onnxruntime-node npm package) and check its sha256.
ort:
	@scripts/fetch-ort.sh

# Headless Chromium for the docs page's browser test, from Debian's
# packages, once: installed when it is missing and this is root with
# apt-get. Elsewhere, or when the install fails off CI, nothing is
# installed and that test skips, saying why; on CI (CI=true) a failed
# install fails here and a missing browser fails the test. The test finds
# the browser as $CHROME_PATH, chromium or chromium-browser.
chromium:
	@if [ -n "$$CHROME_PATH" ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "chromium: installing it from Debian's packages for the docs page's browser test" >&2; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null; } || \
		{ [ "$$CI" != true ] && echo "chromium: the install failed; the docs page's browser test will skip" >&2; }; \
	else \
		echo "chromium: not installed, and installing it needs root and apt-get; the docs page's browser test will skip" >&2; \
	fi

# nats-server for the tests of the prediction log and feedback on NATS
# JetStream (internal/natstest), from Debian's packages, once, the way
# chromium is: installed when it is missing and this is root with
# apt-get; elsewhere those tests skip, saying why, and on CI (CI=true) a
# failed install fails here.
nats:
	@scripts/install-nats.sh

# PostgreSQL from Debian's packages, for the tracking suite's PostgreSQL
# run (internal/pgtest starts a throwaway cluster): installed when it is
# missing and this is root with apt-get; elsewhere the PostgreSQL tests
# skip, saying why. On CI (CI=true) a failed install fails here.
postgres:
	@scripts/install-postgres.sh

# The third-party npm mlflow client, for TestMLflowNPMClient, pinned by
# its package-lock.json: installed once with npm. Without npm the test
# skips off CI; on CI (CI=true) a failed install fails here.
mlflow-npm:
	@cd cmd/switchyard/testdata/mlflow-npm && if [ -f node_modules/mlflow/index.js ]; then :; \
	elif command -v npm >/dev/null; then \
		npm ci --silent --no-audit --no-fund >/dev/null || { [ "$$CI" != true ] && echo "mlflow-npm: the install failed; the npm client's test will skip" >&2; }; \
	elif [ "$$CI" = true ]; then echo "mlflow-npm: npm is missing" >&2; exit 1; \
	else echo "mlflow-npm: npm is missing; the npm client's test will skip" >&2; fi

# promtool, for the deploy package's tests of the Prometheus configuration
# and alert rules, from Debian's prometheus package, once, as `make
# chromium` installs Chromium: without root and apt-get, or when the
# install fails off CI, those tests skip; on CI (CI=true) it must install.
promtool:
	@scripts/install-prometheus.sh

# docs/operating.md: the container image built for real by buildah from
# the Dockerfile, on local stand-ins for its public base images made from
# Debian's packages (scripts/image-standins.sh), then run and sent a
# request (about twenty minutes the first time); not in make test.
image-test:
	@command -v buildah >/dev/null && command -v debootstrap >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends buildah debootstrap >/dev/null; }
	SWITCHYARD_IMAGE_TEST=1 $(GO) test -count=1 -timeout 60m -run '^TestImage$$' -v ./deploy

run: build ort
	$(BIN) demo --serve --registry $(REGISTRY) --addr $(ADDR)

vet:
	$(GO) vet ./...

# The benchmark smoke run goes first so that go test's summary closes the
# output. The fuzz targets' seed corpora run as ordinary tests here;
# make fuzz-smoke and make fuzz mutate them.
# The allocation tests are built without the race detector, which
# allocates: they run on their own first.
test: ort chromium nats postgres promtool mlflow-npm vet bench-smoke
	$(GO) test -count=1 -run Alloc ./server ./tracking ./drift ./rollout ./internal/onnx
	$(GO) test -race -count=1 ./...

# README.md's last walkthrough step: the closed loop (a quality alarm,
# a retraining, its gate and canary) run by the built binary, which the
# retrain hook starts again (about two minutes).
loop: build ort
	SWITCHYARD_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -run '^TestClosedLoop$$' -v ./cmd/switchyard

# docs/status.png, the README's picture of the status page: headless
# Chromium against a served registry with a canary, drift and live
# quality under traffic (about twenty seconds); not in make test.
screenshot: ort chromium
	SWITCHYARD_STATUS_SCREENSHOT=$(CURDIR)/docs/status.png $(GO) test -count=1 -run '^TestStatusPageScreenshot$$' ./server

# docs/operations.md, "Running a fleet": three serve processes of the
# built binary on one registry, one throwaway PostgreSQL and one
# nats-server, on loopback (issue 29; about two minutes).
fleet-test: build ort postgres nats
	SWITCHYARD_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -run '^TestFleet$$' -v ./cmd/switchyard

# docs/benchmarks.md: switchyard against the HTTP floor and
# onnxruntime in-process (about seven minutes), hot swaps, tracking's cost,
# rollout cycles, a two-arm canary's cost and a gate's cost (about five
# minutes together), records, drift's and the prediction log's costs, the
# response cache's gain and cost (about a minute and a half),
# then the Go benchmarks.
bench: build ort
	$(BIN) bench --compare --json bench.json
	$(BIN) bench --swap-cycles 100 --json bench-swap.json
	$(BIN) bench --tracking-cost --json bench-tracking.json
	$(BIN) bench --swap-cycles 100 --rollout-cycles --json bench-rollout.json
	$(BIN) bench --canary-cost --json bench-canary.json
	$(BIN) bench --gate-cost --json bench-gate.json
	$(BIN) bench --records-cost --json bench-records.json
	$(BIN) bench --drift-cost --json bench-drift.json
	$(BIN) bench --log-cost --json bench-log.json
	$(BIN) bench --cache --json bench-cache.json
	$(GO) test -run '^$$' -bench . -benchtime 2s ./server ./batcher ./engine ./tracking

# docs/benchmarks.md: ten minutes of mixed traffic while versions are
# published, gated, rolled out and swapped (issue 23); not in make test.
soak: build ort
	$(BIN) bench --soak 10m --json bench-soak.json

# Every fuzz target (the parsers of untrusted input) for FUZZTIME each.
FUZZTIME ?= 1m
fuzz:
	GO=$(GO) scripts/fuzz.sh $(FUZZTIME)

# Two seconds of each.
fuzz-smoke:
	GO=$(GO) scripts/fuzz.sh 2s

# A few seconds of the same, to prove the harness works; no speed is asserted.
bench-smoke: build ort
	$(BIN) bench --compare --smoke

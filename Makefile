# switchyard: `make run` serves the demo model, `make test` runs every test.
GO      ?= go
ADDR    ?= :8080
REGISTRY ?= registry
BIN     := bin/switchyard

# The binary and the tests find onnxruntime through this variable; `make ort`
# puts the library there.
ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x64)
export SWITCHYARD_ORT_LIB ?= $(CURDIR)/.cache/ort/1.24.1/linux-$(ARCH)/libonnxruntime.so.1

.PHONY: all build ort run test vet bench bench-smoke

all: build

build:
	$(GO) build -o $(BIN) ./cmd/switchyard

# Fetch onnxruntime once (from the onnxruntime-node npm package) and check its sha256.
ort:
	@scripts/fetch-ort.sh

run: build ort
	$(BIN) demo --registry $(REGISTRY) --addr $(ADDR)
	$(BIN) serve --registry $(REGISTRY) --addr $(ADDR)

vet:
	$(GO) vet ./...

# The benchmark smoke run goes first so that go test's summary closes the output.
test: ort vet bench-smoke
	$(GO) test -race -count=1 ./...

# README's Benchmarks section: switchyard against the HTTP floor and
# onnxruntime in-process (about seven minutes), hot swaps, tracking's cost,
# rollout cycles, a two-arm canary's cost and a gate's cost (about five
# minutes together),
# then the Go benchmarks.
bench: build ort
	$(BIN) bench --compare --json bench.json
	$(BIN) bench --swap-cycles 100 --json bench-swap.json
	$(BIN) bench --tracking-cost --json bench-tracking.json
	$(BIN) bench --swap-cycles 100 --rollout-cycles --json bench-rollout.json
	$(BIN) bench --canary-cost --json bench-canary.json
	$(BIN) bench --gate-cost --json bench-gate.json
	$(GO) test -run '^$$' -bench . -benchtime 2s ./server ./batcher ./engine

# A few seconds of the same, to prove the harness works; no speed is asserted.
bench-smoke: build ort
	$(BIN) bench --compare --smoke

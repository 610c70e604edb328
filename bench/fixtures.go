package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// benchModel is a model the scenarios serve.
type benchModel struct {
	name string
	mlp  *onnx.MLP
	body []byte // a one-row JSON inference request
	// binary, if not nil, is a BinaryRows-row request in the binary tensor
	// data extension, whose JSON header is binaryJSON bytes long.
	binary     []byte
	binaryJSON int
}

// compareModels builds Compare's models, the small one first, from fixed
// seeds, so every run serves the same bytes.
func compareModels() []benchModel {
	ms := []benchModel{
		{name: SmallModel, mlp: onnx.RandomMLP(1, onnx.ActivationSoftmax, 30, 64, 2)},
		{name: HeavyModel, mlp: onnx.RandomMLP(2, onnx.ActivationSoftmax, 256, 1024, 1024, 1024, 2)},
	}
	for i := range ms {
		ms[i].body = InferBody("input", 1, ms[i].mlp.Features(), uint64(i+1))
	}
	heavy := &ms[1]
	heavy.binary, heavy.binaryJSON = InferBinaryBody("input", BinaryRows, heavy.mlp.Features(), 2)
	return ms
}

// reseed returns an MLP of m's widths and activation drawn from seed.
func reseed(m *onnx.MLP, seed uint64) *onnx.MLP {
	widths := []int{m.Layers[0].In()}
	for i := range m.Layers {
		widths = append(widths, m.Layers[i].Out())
	}
	return onnx.RandomMLP(seed, m.Final, widths...)
}

// loadSpec is what a load phase sends.
type loadSpec struct {
	model  string
	body   []byte
	rows   int
	header map[string]string
}

// jsonLoad is one-row JSON requests to m.
func (m *benchModel) jsonLoad() loadSpec {
	return loadSpec{model: m.name, body: m.body, rows: 1}
}

// binaryLoad is m's BinaryRows-row binary requests.
func (m *benchModel) binaryLoad() loadSpec {
	return loadSpec{model: m.name, body: m.binary, rows: BinaryRows,
		header: map[string]string{BinaryHeader: strconv.Itoa(m.binaryJSON)}}
}

// engineArgs are the flags that make a child run models as c says, as
// the in-process measurement does.
func (c *RoundsConfig) engineArgs() []string {
	args := []string{"--intra-op-threads", strconv.Itoa(max(c.Engine.IntraOpThreads, 1)),
		"--inter-op-threads", strconv.Itoa(max(c.Engine.InterOpThreads, 1))}
	if c.ORTLib != "" {
		args = append(args, "--ort-lib", c.ORTLib)
	}
	return args
}

// withChild starts a child process of c's binary, runs fn with it and
// stops it, whatever fn returns.
func (c *RoundsConfig) withChild(ctx context.Context, name string, args []string, prefix string, fn func(*child) error) error {
	ch, err := startChild(ctx, name, c.Binary, args, prefix, c.ChildStderr)
	if err != nil {
		return err
	}
	err = fn(ch)
	return errors.Join(err, ch.stop())
}

// stage is what a scenario runs on: a temporary directory for its
// registries, Compare's small model, and the servers it starts there. It
// belongs to one goroutine; its owner must call close.
type stage struct {
	cfg   *RoundsConfig
	name  string // the scenario, in errors
	dir   string
	small benchModel
	// server is the server of the whole run, once serveAll started it.
	server *child
}

// newStage makes the temporary directory of scenario name under c.Dir.
// c's defaults must be set.
func (c *RoundsConfig) newStage(name string) (*stage, error) {
	dir, err := os.MkdirTemp(c.Dir, "switchyard-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", name, err)
	}
	return &stage{cfg: c, name: name, dir: dir, small: compareModels()[0]}, nil
}

// onStage runs fn on a new stage of scenario name, then closes the
// stage, whatever fn returns. c's defaults must be set.
func (c *RoundsConfig) onStage(name string, fn func(*stage) error) error {
	st, err := c.newStage(name)
	if err != nil {
		return err
	}
	err = fn(st)
	return errors.Join(err, st.close())
}

// close stops the server of the whole run, if any, and removes the
// directory.
func (s *stage) close() error {
	var err error
	if s.server != nil {
		err = s.server.stop()
	}
	os.RemoveAll(s.dir)
	return err
}

// registry returns the path of the registry called name in the stage.
func (s *stage) registry(name string) string { return filepath.Join(s.dir, name) }

// publish publishes m as the next version of the small model in registry,
// with opts; an empty description and creator name the benchmark.
func (s *stage) publish(registry string, m *onnx.MLP, opts modelstore.PublishOptions) (int, error) {
	opts.Description = cmp.Or(opts.Description, "switchyard bench: random MLP")
	opts.CreatedBy = cmp.Or(opts.CreatedBy, "switchyard bench")
	opts.Engine = s.cfg.Engine
	v, err := modelstore.Publish(registry, SmallModel, m.Model().Marshal(), opts)
	if err != nil {
		return 0, fmt.Errorf("bench: %s: %w", s.name, err)
	}
	return v, nil
}

// serveArgs are the arguments of `switchyard serve` on registry, on
// 127.0.0.1, with the engine flags and extra; it stops at once on
// SIGTERM (no load balancer waits for it).
func (s *stage) serveArgs(registry string, extra ...string) []string {
	return slices.Concat([]string{"serve", "--registry", registry, "--addr", "127.0.0.1:0"}, extra,
		[]string{"--log-level", "warn", "--shutdown-timeout", "10s", "--drain-delay", "0"}, s.cfg.engineArgs())
}

// serve starts `switchyard serve` on registry (serveArgs) as the child
// called name; its caller must stop it.
func (s *stage) serve(ctx context.Context, name, registry string, extra ...string) (*child, error) {
	return startChild(ctx, name, s.cfg.Binary, s.serveArgs(registry, extra...), "switchyard listening on ", s.cfg.ChildStderr)
}

// serveAll starts the server of the whole run on registry, which close
// stops.
func (s *stage) serveAll(ctx context.Context, registry string, extra ...string) (*child, error) {
	ch, err := s.serve(ctx, "switchyard", registry, extra...)
	s.server = ch
	return ch, err
}

// withServer starts a server on registry (serve), runs fn with it and
// stops it, whatever fn returns.
func (s *stage) withServer(ctx context.Context, name, registry string, extra []string, fn func(*child) error) error {
	return s.cfg.withChild(ctx, name, s.serveArgs(registry, extra...), "switchyard listening on ", fn)
}

// failure adds to err, unless ctx is done, the end of the stderr of the
// server of the whole run, if any.
func (s *stage) failure(ctx context.Context, err error) error {
	if s.server == nil || ctx.Err() != nil {
		return err
	}
	return errors.Join(err, s.server.failure("was serving the scenario"))
}

// backgroundLoad is a load run in a goroutine of its own until its owner
// calls stop.
type backgroundLoad struct {
	cancel context.CancelFunc
	// done is closed once the load has ended; result and err then hold
	// what Run returned.
	done   chan struct{}
	result *Result
	err    error
}

// startLoad starts load in the background.
func startLoad(ctx context.Context, load Config) *backgroundLoad {
	lctx, cancel := context.WithCancel(ctx)
	b := &backgroundLoad{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		b.result, b.err = Run(lctx, load)
	}()
	return b
}

// stop ends the load, waits for it and returns what it measured, with
// err and the load's error joined. The load's normal end,
// context.Canceled, is not an error.
func (b *backgroundLoad) stop(err error) (*Result, error) {
	b.cancel()
	<-b.done
	if errors.Is(b.err, context.Canceled) {
		return b.result, err
	}
	return b.result, errors.Join(err, b.err)
}

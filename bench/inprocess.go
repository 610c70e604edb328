package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/switchyard-ml/switchyard/engine"
)

// DefaultBatchSizes returns the batch sizes InProcess measures when none
// are given: the powers of two from 1 to 256. The slice is new on every
// call.
func DefaultBatchSizes() []int { return []int{1, 2, 4, 8, 16, 32, 64, 128, 256} }

// InProcessConfig describes a measurement of onnxruntime alone, without
// HTTP: the most rows per second this process can get through one session
// of a model.
type InProcessConfig struct {
	// Name names the model in the result.
	Name string
	// Model is the serialized ONNX model. Every input must have a dynamic
	// first (batch) dimension and fixed others.
	Model []byte
	// Engine configures the session, as the server would.
	Engine engine.Config
	// BatchSizes are measured in this order. Nil means
	// DefaultBatchSizes().
	BatchSizes []int
	// Duration is how long each batch size runs. 0 means one second.
	Duration time.Duration
	// Concurrency is the number of goroutines calling Run at once on the
	// one shared session, each with its own tensors. 0 means
	// runtime.NumCPU().
	Concurrency int
	// Seed fixes the input values.
	Seed uint64
}

// BatchResult is the throughput of one batch size.
type BatchResult struct {
	// BatchSize is the number of rows per Run.
	BatchSize int `json:"batch_size"`
	// Runs counts the timed calls to Run, over all goroutines.
	Runs int64 `json:"runs"`
	// Rows is Runs times BatchSize.
	Rows int64 `json:"rows"`
	// Seconds is the wall time from the start until the last goroutine
	// finished.
	Seconds float64 `json:"seconds"`
	// RowsPerSec is Rows/Seconds.
	RowsPerSec float64 `json:"rows_per_sec"`
	// MeanRun is the mean wall time of one Run under this concurrency.
	MeanRun time.Duration `json:"mean_run_ns"`
}

// InProcessResult is the throughput of one model at each batch size.
type InProcessResult struct {
	// Model is InProcessConfig.Name.
	Model string `json:"model"`
	// Concurrency is the number of goroutines that shared the session.
	Concurrency int `json:"concurrency"`
	// Batches holds one result per batch size, in the order measured.
	Batches []BatchResult `json:"batches"`
	// Best is the batch size with the most rows per second.
	Best BatchResult `json:"best"`
	// RoundBest, in a comparison of several rounds, holds every round's
	// best rows per second, in the order run; the rest is the median
	// round's.
	RoundBest []float64 `json:"round_best,omitempty"`
}

// InProcess loads cfg.Model into one engine session and, for each batch
// size in turn, runs it from cfg.Concurrency goroutines for cfg.Duration
// after one untimed run per goroutine. engine.Init must have been called.
// It returns early with ctx's error if ctx is done.
func InProcess(ctx context.Context, cfg InProcessConfig) (*InProcessResult, error) {
	if cfg.Duration < 0 || cfg.Concurrency < 0 {
		return nil, fmt.Errorf("bench: in-process: negative duration %v or concurrency %d", cfg.Duration, cfg.Concurrency)
	}
	if cfg.Duration == 0 {
		cfg.Duration = time.Second
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = runtime.NumCPU()
	}
	if cfg.BatchSizes == nil {
		cfg.BatchSizes = DefaultBatchSizes()
	}
	sess, err := engine.New(cfg.Model, cfg.Engine)
	if err != nil {
		return nil, fmt.Errorf("bench: in-process %s: %w", cfg.Name, err)
	}
	defer sess.Close()
	r := &InProcessResult{Model: cfg.Name, Concurrency: cfg.Concurrency}
	for _, b := range cfg.BatchSizes {
		if b <= 0 {
			return nil, fmt.Errorf("bench: in-process %s: batch size %d", cfg.Name, b)
		}
		br, err := measureBatch(ctx, sess, b, &cfg)
		if err != nil {
			return nil, fmt.Errorf("bench: in-process %s at batch %d: %w", cfg.Name, b, err)
		}
		r.Batches = append(r.Batches, br)
		if br.RowsPerSec > r.Best.RowsPerSec {
			r.Best = br
		}
	}
	return r, nil
}

// measureBatch runs sess at one batch size from cfg.Concurrency goroutines.
func measureBatch(ctx context.Context, sess *engine.Session, batch int, cfg *InProcessConfig) (BatchResult, error) {
	c := cfg.Concurrency
	ins := make([][]engine.Tensor, c)
	outs := make([][]engine.Tensor, c)
	for i := range c {
		var err error
		if ins[i], err = batchInputs(sess.Signature(), batch, cfg.Seed+uint64(i)); err != nil {
			return BatchResult{}, err
		}
		outs[i] = make([]engine.Tensor, len(sess.Signature().Outputs))
		// Untimed: onnxruntime plans memory for each new shape.
		if err := sess.Run(ins[i], outs[i]); err != nil {
			return BatchResult{}, err
		}
	}
	runs := make([]int64, c)
	busy := make([]time.Duration, c)
	errs := make([]error, c)
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	var wg sync.WaitGroup
	for i := range c {
		wg.Go(func() {
			var n int64
			var err error
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if err = sess.Run(ins[i], outs[i]); err != nil {
					break
				}
				n++
			}
			runs[i], busy[i], errs[i] = n, time.Since(start), err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return BatchResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return BatchResult{}, err
	}
	br := BatchResult{BatchSize: batch}
	var total time.Duration
	for i := range c {
		br.Runs += runs[i]
		total += busy[i]
		br.Seconds = max(br.Seconds, busy[i].Seconds())
	}
	br.Rows = br.Runs * int64(batch)
	if br.Runs > 0 {
		br.MeanRun = total / time.Duration(br.Runs)
	}
	if br.Seconds > 0 {
		br.RowsPerSec = float64(br.Rows) / br.Seconds
	}
	return br, nil
}

// batchInputs builds one tensor per input of sig with batch rows. FP32
// inputs hold values in [-1, 1) drawn from seed; other types hold zeros.
func batchInputs(sig *engine.Signature, batch int, seed uint64) ([]engine.Tensor, error) {
	in := make([]engine.Tensor, len(sig.Inputs))
	for i, info := range sig.Inputs {
		if len(info.Shape) == 0 || info.Shape[0] != -1 {
			return nil, fmt.Errorf("input %q has shape %v: no dynamic batch dimension", info.Name, info.Shape)
		}
		shape := append([]int64{int64(batch)}, info.Shape[1:]...)
		for _, d := range shape[1:] {
			if d < 0 {
				return nil, fmt.Errorf("input %q has shape %v: a dynamic dimension other than the batch", info.Name, info.Shape)
			}
		}
		n := engine.Elements(shape)
		data := make([]byte, n*int64(info.DType.Size()))
		if info.DType == engine.FP32 {
			vals := make([]float32, n)
			randomFloats(vals, seed+uint64(i))
			for k, v := range vals {
				binary.LittleEndian.PutUint32(data[4*k:], math.Float32bits(v))
			}
		}
		in[i] = engine.Tensor{Name: info.Name, DType: info.DType, Shape: shape, Data: data}
	}
	return in, nil
}

package engine

import (
	"fmt"
	"math"
)

// DefaultMaxTensorBytes is the size limit of one tensor when
// Config.MaxTensorBytes is 0: 256 MiB. The largest real inputs and
// outputs switchyard serves (a batch of 64 rows of a few thousand
// features, an image batch of 64×3×224×224 FP32 = 37 MiB) are far below
// it, while a model whose declared shapes alone would take gigabytes is
// refused before anything is allocated. A few such tensors per executor
// still fit a small machine.
const DefaultMaxTensorBytes = 256 << 20

// maxTensorBytes returns the tensor size limit cfg sets.
func (cfg *Config) maxTensorBytes() (int64, error) {
	switch {
	case cfg.MaxTensorBytes < 0:
		return 0, fmt.Errorf("engine: MaxTensorBytes %d is negative", cfg.MaxTensorBytes)
	case cfg.MaxTensorBytes == 0:
		return DefaultMaxTensorBytes, nil
	}
	return cfg.MaxTensorBytes, nil
}

// tensorBytes returns the bytes a tensor of the given shape and type
// takes, or math.MaxInt64 when that does not fit an int64. Negative
// dimensions count as 0, as in Elements.
func tensorBytes(shape []int64, dt DType) int64 {
	n := int64(dt.Size())
	for _, d := range shape {
		if d <= 0 {
			return 0
		}
		if n > math.MaxInt64/d {
			return math.MaxInt64
		}
		n *= d
	}
	return n
}

// checkDeclared refuses a signature with a tensor that would take more
// than limit bytes with every dynamic dimension set to 1, as warm-up
// runs it. It runs before the engine allocates anything for the model.
func checkDeclared(sig *Signature, limit int64) error {
	for _, kind := range []struct {
		name string
		ts   []TensorInfo
	}{{"input", sig.Inputs}, {"output", sig.Outputs}} {
		for _, t := range kind.ts {
			if n := tensorBytes(warmShape(t.Shape), t.DType); n > limit {
				return fmt.Errorf("%w: %s %q of declared shape %v (%s) needs %s even at batch size 1, over the limit of %d bytes (MaxTensorBytes)",
					ErrTooLarge, kind.name, t.Name, t.Shape, t.DType, bytesText(n), limit)
			}
		}
	}
	return nil
}

// checkSize fails when a tensor of the given shape, which the engine is
// about to allocate, would take more than limit bytes.
func checkSize(kind, name string, shape []int64, dt DType, limit int64) error {
	if n := tensorBytes(shape, dt); n > limit {
		return fmt.Errorf("%w: %s %q of shape %v (%s) would take %s, over the limit of %d bytes (MaxTensorBytes)",
			ErrTooLarge, kind, name, shape, dt, bytesText(n), limit)
	}
	return nil
}

// bytesText writes a byte count, saying when it overflowed.
func bytesText(n int64) string {
	if n == math.MaxInt64 {
		return "more than 2^63 bytes"
	}
	return fmt.Sprintf("%d bytes", n)
}

// warmShape returns shape with every dynamic dimension set to 1: the
// shape warm-up runs.
func warmShape(shape []int64) []int64 {
	out := make([]int64, len(shape))
	for k, d := range shape {
		out[k] = max(d, 1)
	}
	return out
}

// MaxBatchRows returns the most rows a batch may have so that no tensor
// whose size follows from the row count (an input or a preallocated
// output shaped [N, fixed...]) passes the session's MaxTensorBytes. It is
// at least 1. A batcher should not form batches larger than this: Bind and
// Run refuse them with ErrTooLarge.
func (s *Session) MaxBatchRows() int {
	rows := int64(math.MaxInt32)
	for _, ts := range [][]TensorInfo{s.sig.Inputs, s.sig.Outputs} {
		for _, t := range ts {
			if len(t.Shape) == 0 || t.Shape[0] != -1 || Elements(t.Shape[1:]) == 0 {
				continue // no batch axis, or a row of unknown size
			}
			rows = min(rows, s.maxBytes/max(tensorBytes(t.Shape[1:], t.DType), 1))
		}
	}
	return int(max(rows, 1))
}

package demo

import (
	"errors"
	"fmt"
	"math"

	"github.com/switchyard-ml/switchyard/internal/onnx"
)

// InputName is the name of the demo models' input, FP32 [N,InputWidth].
const InputName = "features"

// Training settings. They are fixed so that the demo model is the same on
// every machine.
const (
	// l2 is the ridge penalty on the standardised weights (not the bias),
	// small enough not to bias the fit but enough to keep Newton's method
	// well conditioned.
	l2 = 1e-4
	// maxIter bounds Newton's method, which converges in about ten steps.
	maxIter = 100
	// tolerance is the largest parameter step at which training stops.
	tolerance = 1e-10
	// dim is the number of parameters: the weights, then the bias.
	dim = InputWidth + 1
)

// Classifier is a logistic regression fitted on the standardised columns
// of the encoded input (see Encode): P(fraud | x) = sigmoid(Bias +
// Σ Weights[j]·(x[j]-Mean[j])/Std[j]). It is read-only once trained and
// safe for concurrent use.
type Classifier struct {
	// Mean is each input column's mean over the training set.
	Mean [InputWidth]float64
	// Std is each input column's standard deviation over the training
	// set, or 1 for a column that was constant.
	Std [InputWidth]float64
	// Weights are the coefficients of the standardised columns.
	Weights [InputWidth]float64
	// Bias is the intercept.
	Bias float64
}

// Train fits a Classifier to d by Newton's method (iteratively reweighted
// least squares) on the mean log loss plus a small ridge penalty, in
// float64. It is deterministic: the same d always gives the same Classifier.
// It returns ErrEmpty or ErrOneClass when d cannot be learned from, and an
// error if Newton's method fails to converge.
func Train(d *Dataset) (*Classifier, error) {
	n := d.Len()
	if n == 0 {
		return nil, ErrEmpty
	}
	positives := 0
	for _, y := range d.Y {
		positives += y
	}
	if positives == 0 || positives == n {
		return nil, ErrOneClass
	}

	x := d.encoded()
	c := &Classifier{}
	c.fitScaler(x)
	z := make([]float64, n*dim) // standardised rows with a trailing 1
	for i := range n {
		c.standardise(z[i*dim:i*dim+InputWidth], x[i*InputWidth:(i+1)*InputWidth])
		z[i*dim+InputWidth] = 1
	}

	var theta [dim]float64
	for range maxIter {
		var grad [dim]float64
		var hess [dim][dim]float64
		for i := range n {
			zi := z[i*dim : (i+1)*dim]
			s := 0.0
			for j, v := range zi {
				s += theta[j] * v
			}
			pi := sigmoid(s)
			r, w := pi-float64(d.Y[i]), pi*(1-pi)
			for j, vj := range zi {
				grad[j] += r * vj
				for k := range j + 1 {
					hess[j][k] += w * vj * zi[k]
				}
			}
		}
		for j := range dim {
			grad[j] /= float64(n)
			for k := range j + 1 {
				hess[j][k] /= float64(n)
				hess[k][j] = hess[j][k]
			}
			if j < InputWidth {
				grad[j] += l2 * theta[j]
				hess[j][j] += l2
			}
		}
		step, ok := solve(hess, grad)
		if !ok {
			return nil, errors.New("demo: train: hessian is not positive definite")
		}
		largest := 0.0
		for j := range dim {
			theta[j] -= step[j]
			largest = max(largest, math.Abs(step[j]))
		}
		if largest < tolerance {
			copy(c.Weights[:], theta[:InputWidth])
			c.Bias = theta[InputWidth]
			return c, nil
		}
	}
	return nil, fmt.Errorf("demo: train: newton's method did not converge in %d iterations", maxIter)
}

// fitScaler sets c.Mean and c.Std from x, encoded rows of InputWidth
// columns.
func (c *Classifier) fitScaler(x []float64) {
	n := float64(len(x) / InputWidth)
	for i, v := range x {
		c.Mean[i%InputWidth] += v
	}
	for j := range c.Mean {
		c.Mean[j] /= n
	}
	var ss [InputWidth]float64
	for i, v := range x {
		j := i % InputWidth
		ss[j] += (v - c.Mean[j]) * (v - c.Mean[j])
	}
	for j := range c.Std {
		c.Std[j] = math.Sqrt(ss[j] / n)
		if c.Std[j] == 0 {
			c.Std[j] = 1
		}
	}
}

// standardise writes (row[j]-Mean[j])/Std[j] to dst[j].
func (c *Classifier) standardise(dst, row []float64) {
	for j, v := range row {
		dst[j] = (v - c.Mean[j]) / c.Std[j]
	}
}

// Probability returns the probability of fraud the classifier gives
// record, which holds NumFeatures values.
func (c *Classifier) Probability(record []float64) float64 {
	var x [InputWidth]float64
	encode(&x, record)
	s := c.Bias
	for j, v := range x {
		s += c.Weights[j] * (v - c.Mean[j]) / c.Std[j]
	}
	return sigmoid(s)
}

// Folded returns weights and bias on the encoded input, with the
// standardisation folded in: Bias + Σ Weights[j]·(x[j]-Mean[j])/Std[j]
// equals bias + Σ weights[j]·x[j].
func (c *Classifier) Folded() (weights [InputWidth]float64, bias float64) {
	bias = c.Bias
	for j := range weights {
		weights[j] = c.Weights[j] / c.Std[j]
		bias -= weights[j] * c.Mean[j]
	}
	return weights, bias
}

// LogReg returns the classifier as a binary onnx.LogReg over the encoded
// input, with the folded weights rounded to float32. Its model takes
// InputName, FP32 [N,InputWidth], and outputs label INT64 [N] and
// probabilities FP32 [N,2]. The returned LogReg is new and the caller's.
func (c *Classifier) LogReg() *onnx.LogReg {
	w, b := c.Folded()
	weights := make([]float32, InputWidth)
	for j, v := range w {
		weights[j] = float32(v)
	}
	return &onnx.LogReg{Weights: weights, Bias: []float32{float32(b)}, InputName: InputName}
}

// sigmoid returns 1/(1+e^-s).
func sigmoid(s float64) float64 { return 1 / (1 + math.Exp(-s)) }

// solve returns x with a·x = b for a symmetric positive definite a, by
// Cholesky factorisation, or false when a is not positive definite.
func solve(a [dim][dim]float64, b [dim]float64) ([dim]float64, bool) {
	var l [dim][dim]float64
	for j := range dim {
		s := a[j][j]
		for k := range j {
			s -= l[j][k] * l[j][k]
		}
		if s <= 0 {
			return b, false
		}
		l[j][j] = math.Sqrt(s)
		for i := j + 1; i < dim; i++ {
			s := a[i][j]
			for k := range j {
				s -= l[i][k] * l[j][k]
			}
			l[i][j] = s / l[j][j]
		}
	}
	var x [dim]float64
	for i := range dim { // forward: l·y = b, y kept in x
		s := b[i]
		for k := range i {
			s -= l[i][k] * x[k]
		}
		x[i] = s / l[i][i]
	}
	for i := dim - 1; i >= 0; i-- { // backward: lᵀ·x = y
		s := x[i]
		for k := i + 1; k < dim; k++ {
			s -= l[k][i] * x[k]
		}
		x[i] = s / l[i][i]
	}
	return x, true
}

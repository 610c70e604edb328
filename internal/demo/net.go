package demo

import (
	"math"
	"math/rand/v2"

	"github.com/switchyard-ml/switchyard/internal/onnx"
)

// Network training settings. They are fixed so that the demo's second
// model is the same on every machine.
const (
	// netHidden is the number of ReLU units of the hidden layer.
	netHidden = 16
	// netEpochs is how many times training passes over the data.
	netEpochs = 40
	// netBatch is the number of rows per gradient step.
	netBatch = 128
	// netRate is Adam's initial step size; it decays to zero along a
	// half cosine over the training's steps.
	netRate = 0.01
	// netL2 is the ridge penalty on the weights (not the biases).
	netL2 = 1e-4
	// Adam's moment decay rates and its guard against division by zero.
	adamBeta1, adamBeta2, adamEpsilon = 0.9, 0.999, 1e-8
	// netStream is the second word of the random generator's state, so
	// that the network's draws differ from the data's for the same seed.
	netStream = 0x6e6574
)

// netParams is the number of a Net's parameters, in the order params
// lays them out.
const netParams = InputWidth*netHidden + netHidden + netHidden + 1

// Net is a neural network fitted on the standardised columns of the
// encoded input (see Encode): one hidden layer of ReLU units and a
// logistic output,
//
//	h = relu(W1ᵀ·z + B1), z[j] = (x[j]-Mean[j])/Std[j]
//	P(fraud | x) = sigmoid(W2·h + B2)
//
// It can bend and combine where the logistic regression cannot: an
// amount far above the card's usual one, night-time or foreign purchases
// without the card, a card less than two months old. It is read-only once
// trained and safe for concurrent use.
type Net struct {
	// Mean and Std standardise the input columns as Classifier's do.
	Mean, Std [InputWidth]float64
	// W1 holds the hidden layer's weights, row-major [InputWidth,
	// netHidden]: W1[j*netHidden+k] is standardised column j's weight
	// into unit k. B1 holds the units' biases.
	W1 [InputWidth * netHidden]float64
	B1 [netHidden]float64
	// W2 and B2 are the output's weights on the hidden units and its bias.
	W2 [netHidden]float64
	B2 float64
}

// TrainNet fits a Net to d by mini-batch Adam on the mean log loss plus a
// small ridge penalty, in float64, with a cosine-decaying step size. The
// initial weights (He initialisation) and the order of the rows in each
// pass are drawn from seed, so the same d and seed always give the same
// Net. It returns ErrEmpty or ErrOneClass when d cannot be learned from.
func TrainNet(d *Dataset, seed uint64) (*Net, error) {
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
	var c Classifier
	c.fitScaler(x)
	net := &Net{Mean: c.Mean, Std: c.Std}
	z := make([]float64, n*InputWidth)
	for i := range n {
		c.standardise(z[i*InputWidth:(i+1)*InputWidth], x[i*InputWidth:(i+1)*InputWidth])
	}

	rng := rand.New(rand.NewPCG(seed, netStream))
	for i := range net.W1 {
		net.W1[i] = rng.NormFloat64() * math.Sqrt(2.0/float64(InputWidth))
	}
	for i := range net.W2 {
		net.W2[i] = rng.NormFloat64() * math.Sqrt(1.0/netHidden)
	}
	rate := float64(positives) / float64(n)
	net.B2 = math.Log(rate / (1 - rate)) // start at the base rate

	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	var grad, m, v [netParams]float64
	steps := netEpochs * ((n + netBatch - 1) / netBatch)
	p, step := net.params(), 0
	for range netEpochs {
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		for start := 0; start < n; start += netBatch {
			batch := order[start:min(start+netBatch, n)]
			net.gradient(&grad, z, d.Y, batch)
			step++
			lr := netRate * 0.5 * (1 + math.Cos(math.Pi*float64(step-1)/float64(steps)))
			c1 := 1 - math.Pow(adamBeta1, float64(step))
			c2 := 1 - math.Pow(adamBeta2, float64(step))
			for i, g := range grad {
				m[i] = adamBeta1*m[i] + (1-adamBeta1)*g
				v[i] = adamBeta2*v[i] + (1-adamBeta2)*g*g
				*p[i] -= lr * (m[i] / c1) / (math.Sqrt(v[i]/c2) + adamEpsilon)
			}
		}
	}
	return net, nil
}

// params returns pointers to the parameters in gradient order: W1, B1,
// W2, B2.
func (net *Net) params() [netParams]*float64 {
	var p [netParams]*float64
	i := 0
	for j := range net.W1 {
		p[i] = &net.W1[j]
		i++
	}
	for j := range net.B1 {
		p[i] = &net.B1[j]
		i++
	}
	for j := range net.W2 {
		p[i] = &net.W2[j]
		i++
	}
	p[i] = &net.B2
	return p
}

// gradient sets grad to the gradient of the mean log loss over the rows
// batch of the standardised features z and labels y, plus the ridge
// penalty, in params' order. It works on local copies of the weights and
// the rows, which keeps its inner loops off the heap.
func (net *Net) gradient(grad *[netParams]float64, z []float64, y []int, batch []int) {
	const b1, w2, b2 = InputWidth * netHidden, InputWidth*netHidden + netHidden, netParams - 1
	w1, bias1, wout := net.W1, net.B1, net.W2
	var gr [netParams]float64
	var zr [InputWidth]float64
	var pre, h [netHidden]float64
	for _, r := range batch {
		copy(zr[:], z[r*InputWidth:])
		s := net.B2
		for k := range netHidden {
			a := bias1[k]
			for j, zj := range zr {
				a += w1[j*netHidden+k] * zj
			}
			pre[k], h[k] = a, max(a, 0)
			s += wout[k] * h[k]
		}
		ds := sigmoid(s) - float64(y[r])
		gr[b2] += ds
		for k := range netHidden {
			gr[w2+k] += ds * h[k]
			if pre[k] <= 0 {
				continue
			}
			dk := ds * wout[k]
			gr[b1+k] += dk
			for j, zj := range zr {
				gr[j*netHidden+k] += dk * zj
			}
		}
	}
	inv := 1 / float64(len(batch))
	for i := range gr {
		gr[i] *= inv
	}
	for i := range b1 {
		gr[i] += netL2 * w1[i]
	}
	for k := range netHidden {
		gr[w2+k] += netL2 * wout[k]
	}
	*grad = gr
}

// Probability returns the probability of fraud the network gives
// record, which holds NumFeatures values, in float64.
func (net *Net) Probability(record []float64) float64 {
	var z [InputWidth]float64
	encode(&z, record)
	for j, v := range z {
		z[j] = (v - net.Mean[j]) / net.Std[j]
	}
	s := net.B2
	for k := range netHidden {
		a := net.B1[k]
		for j, zj := range z {
			a += net.W1[j*netHidden+k] * zj
		}
		s += net.W2[k] * max(a, 0)
	}
	return sigmoid(s)
}

// MLP returns the network as an onnx.MLP over the encoded input, with
// the standardisation folded into the hidden layer and the weights
// rounded to float32. Its output layer has two units, the first fixed at
// zero, and softmax, so that it outputs [P(legit), P(fraud)] = [1-p, p].
// MLPClassifier adds the label. The returned MLP is new and the caller's.
func (net *Net) MLP() *onnx.MLP {
	hidden := onnx.Dense{Weights: make([]float32, InputWidth*netHidden), Bias: make([]float32, netHidden)}
	for k := range netHidden {
		bias := net.B1[k]
		for j := range InputWidth {
			w := net.W1[j*netHidden+k] / net.Std[j]
			hidden.Weights[j*netHidden+k] = float32(w)
			bias -= w * net.Mean[j]
		}
		hidden.Bias[k] = float32(bias)
	}
	out := onnx.Dense{Weights: make([]float32, netHidden*2), Bias: []float32{0, float32(net.B2)}}
	for k, w := range net.W2 {
		out.Weights[k*2+1] = float32(w)
	}
	return &onnx.MLP{Layers: []onnx.Dense{hidden, out}, Final: onnx.ActivationSoftmax, InputName: InputName, OutputName: ProbabilitiesName}
}

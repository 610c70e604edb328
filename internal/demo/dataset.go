package demo

import (
	"math"
	"math/rand/v2"
)

// NumFeatures is the number of features of a transaction.
const NumFeatures = 8

// The features of a transaction, as indices into a row. FeatureNames lists
// their names in the same order.
const (
	Amount              = iota // amount in the card's currency, > 0, in cents
	HourOfDay                  // local hour of the transaction, 0 to 23
	DistanceFromHomeKm         // distance from the cardholder's home, km
	MerchantRiskScore          // the merchant's historical risk, 0 to 1
	TransactionsLast24h        // the card's transactions in the last 24 hours
	IsForeign                  // 1 if the merchant is abroad, else 0
	CardPresent                // 1 if the card was physically present, else 0
	AccountAgeDays             // age of the card account in days, >= 1
)

// FeatureNames returns the names of the NumFeatures features in row order,
// in a new slice the caller owns.
func FeatureNames() []string {
	return []string{
		"amount",
		"hour_of_day",
		"distance_from_home_km",
		"merchant_risk_score",
		"transactions_last_24h",
		"is_foreign",
		"card_present",
		"account_age_days",
	}
}

// Dataset is a set of labelled card transactions. Rows are independent and
// identically distributed, so any contiguous range of them is a fair sample.
// A Dataset is safe for concurrent reads.
type Dataset struct {
	// X holds Len() rows of NumFeatures values, row-major, in the order of
	// FeatureNames.
	X []float64
	// Y holds one label per row: 1 for fraud, 0 for a genuine transaction.
	Y []int
}

// Len returns the number of rows.
func (d *Dataset) Len() int { return len(d.Y) }

// Row returns row i's features. The slice aliases d.X.
func (d *Dataset) Row(i int) []float64 { return d.X[i*NumFeatures : (i+1)*NumFeatures] }

// Split returns the first n rows and the remaining rows as two datasets that
// share d's memory. It panics if n is out of range.
func (d *Dataset) Split(n int) (head, tail *Dataset) {
	k := n * NumFeatures
	return &Dataset{X: d.X[:k:k], Y: d.Y[:n:n]}, &Dataset{X: d.X[k:], Y: d.Y[n:]}
}

// Float32 returns the features as float32, row-major: the input tensor of
// the demo's models. The slice is new and the caller's.
func (d *Dataset) Float32() []float32 {
	x := make([]float32, len(d.X))
	for i, v := range d.X {
		x[i] = float32(v)
	}
	return x
}

// Generate returns n synthetic card transactions drawn deterministically
// from seed. About 10% are fraud. Labels come from a hidden rule, logistic
// in transformed features (log amount, night-time, log distance, account
// age, ...) plus noise, so a linear model on the raw features learns much of
// it but not all: its AUC is well above 0.5 and below 1.
func Generate(seed uint64, n int) *Dataset {
	rng := rand.New(rand.NewPCG(seed, 0x66726175640a))
	d := &Dataset{X: make([]float64, n*NumFeatures), Y: make([]int, n)}
	for i := range n {
		row := d.Row(i)
		transaction(rng, row)
		if rng.Float64() < fraudProbability(rng, row) {
			d.Y[i] = 1
		}
	}
	return d
}

// transaction fills row with one transaction's features.
func transaction(rng *rand.Rand, row []float64) {
	bernoulli := func(p float64) float64 {
		if rng.Float64() < p {
			return 1
		}
		return 0
	}
	row[CardPresent] = bernoulli(0.65)
	row[IsForeign] = bernoulli(0.07)
	row[AccountAgeDays] = math.Min(1+math.Floor(rng.ExpFloat64()*900), 7300)

	hour := rng.NormFloat64()*4 + 14 // mostly daytime shopping
	if rng.Float64() < 0.15 {
		hour = rng.Float64() * 24
	}
	row[HourOfDay] = math.Mod(math.Floor(hour)+48, 24)

	amount := math.Exp(rng.NormFloat64()*1.1 + 3.7)
	if row[CardPresent] == 0 {
		amount *= 1.4 // online baskets run larger
	}
	row[Amount] = math.Max(0.5, math.Round(amount*100)/100)

	var km float64
	switch {
	case row[IsForeign] == 1:
		km = 300 + rng.ExpFloat64()*2000
	case row[CardPresent] == 1:
		km = rng.ExpFloat64() * 12
	default:
		km = rng.ExpFloat64() * 40
	}
	row[DistanceFromHomeKm] = math.Round(km*10) / 10

	r := rng.Float64()
	row[MerchantRiskScore] = math.Round(r*r*1000) / 1000
	row[TransactionsLast24h] = float64(poisson(rng, 2.5))
}

// fraudProbability is the hidden rule: the probability that the transaction
// in row is fraud, with per-transaction noise on the log-odds.
func fraudProbability(rng *rand.Rand, row []float64) float64 {
	night := 0.0
	if h := row[HourOfDay]; h < 6 || h >= 23 {
		night = 1
	}
	z := -3.05 +
		0.9*math.Log(row[Amount]/60) +
		1.0*night +
		0.6*math.Log1p(row[DistanceFromHomeKm]/20) +
		3.0*(row[MerchantRiskScore]-0.33) +
		0.35*(row[TransactionsLast24h]-2.5) +
		1.0*row[IsForeign] -
		1.2*row[CardPresent] -
		0.5*math.Log(row[AccountAgeDays]/365) +
		0.6*rng.NormFloat64()
	return 1 / (1 + math.Exp(-z))
}

// poisson draws from a Poisson distribution with the given small mean, by
// Knuth's multiplication method.
func poisson(rng *rand.Rand, mean float64) int {
	limit, p, k := math.Exp(-mean), rng.Float64(), 0
	for p > limit {
		p *= rng.Float64()
		k++
	}
	return k
}

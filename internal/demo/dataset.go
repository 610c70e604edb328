package demo

import (
	"math"
	"math/rand/v2"
)

// The fields of a transaction record, as indices into a Dataset row, in
// the order Features lists them. A row holds a number or an integer as
// itself, a bool as 0 or 1 and a category as the index of its value in
// the feature's Values.
const (
	Amount              = iota // amount in euros
	Hour                       // local hour, 0 to 23
	DistanceFromHomeKm         // distance from the cardholder's home, km
	TransactionsLast24h        // the card's transactions in the last 24 hours
	CardAgeDays                // days since the card was issued
	AvgAmount30d               // the card's mean amount over the last 30 days
	CardPresent                // bool: the card was physically present
	MerchantCategory           // category: MerchantCategories
	Country                    // category: Countries, the merchant's country

	// NumFeatures is the number of fields of a record.
	NumFeatures = iota
)

// The values of the categories, in the order of their one-hot columns.
var (
	// MerchantCategories are the values of MerchantCategory.
	MerchantCategories = [...]string{"grocery", "restaurant", "fuel", "travel", "electronics", "digital_goods"}
	// Countries are the values of Country; the cards are issued in "FR".
	Countries = [...]string{"FR", "DE", "ES", "GB", "US"}
)

// The columns of the demo models' input, FP32 [N,InputWidth]: the six
// numbers, card_present as 0 or 1, then a one-hot block for each
// category.
const (
	// merchantColumn is the first column of MerchantCategory's block.
	merchantColumn = CardPresent + 1
	// countryColumn is the first column of Country's block.
	countryColumn = merchantColumn + len(MerchantCategories)
	// InputWidth is the number of columns of the models' input.
	InputWidth = countryColumn + len(Countries)
)

// Dataset is a set of labelled card transactions. Rows are independent and
// identically distributed, so any contiguous range of them is a fair sample.
// A Dataset is safe for concurrent reads.
type Dataset struct {
	// X holds Len() records of NumFeatures values, row-major, in the
	// order of Features.
	X []float64
	// Y holds one label per row: 1 for fraud, 0 for a legitimate
	// transaction.
	Y []int
}

// Len returns the number of rows.
func (d *Dataset) Len() int { return len(d.Y) }

// Row returns record i. The slice aliases d.X.
func (d *Dataset) Row(i int) []float64 { return d.X[i*NumFeatures : (i+1)*NumFeatures] }

// Split returns the first n rows and the remaining rows as two datasets that
// share d's memory. It panics if n is out of range.
func (d *Dataset) Split(n int) (head, tail *Dataset) {
	k := n * NumFeatures
	return &Dataset{X: d.X[:k:k], Y: d.Y[:n:n]}, &Dataset{X: d.X[k:], Y: d.Y[n:]}
}

// Input returns the rows encoded as the models' input, FP32 [Len(),
// InputWidth], row-major (see Encode). The slice is new and the caller's.
func (d *Dataset) Input() []float32 {
	x := make([]float32, d.Len()*InputWidth)
	var row [InputWidth]float64
	for i := range d.Len() {
		encode(&row, d.Row(i))
		for j, v := range row {
			x[i*InputWidth+j] = float32(v)
		}
	}
	return x
}

// encoded returns the rows encoded as the models' input in float64, for
// training.
func (d *Dataset) encoded() []float64 {
	x := make([]float64, d.Len()*InputWidth)
	for i := range d.Len() {
		encode((*[InputWidth]float64)(x[i*InputWidth:]), d.Row(i))
	}
	return x
}

// Encode returns record, which holds NumFeatures values, as one row of
// the models' input: the numbers and the bool as they are, then each
// category as a one-hot block. The slice is new and the caller's.
func Encode(record []float64) []float32 {
	var row [InputWidth]float64
	encode(&row, record)
	x := make([]float32, InputWidth)
	for j, v := range row {
		x[j] = float32(v)
	}
	return x
}

// encode writes record's input row to dst.
func encode(dst *[InputWidth]float64, record []float64) {
	*dst = [InputWidth]float64{}
	copy(dst[:merchantColumn], record[:merchantColumn])
	dst[merchantColumn+int(record[MerchantCategory])] = 1
	dst[countryColumn+int(record[Country])] = 1
}

// Indices of the categories' values, for the generator.
const (
	grocery = iota
	restaurant
	fuel
	travel
	electronics
	digitalGoods
)

// france is the index of the cards' home country in Countries.
const france = 0

// The generator's distributions and the hidden rule's weights by
// category.
var (
	// categoryShare is each category's share of transactions.
	categoryShare = [len(MerchantCategories)]float64{0.30, 0.20, 0.12, 0.08, 0.12, 0.18}
	// presentShare is the share of each category's transactions where
	// the card is present.
	presentShare = [len(MerchantCategories)]float64{0.92, 0.85, 0.95, 0.30, 0.40, 0.02}
	// basket scales the card's usual amount for each category.
	basket = [len(MerchantCategories)]float64{1, 0.8, 1.1, 2, 1.8, 0.5}
	// countryShare is, for domestic-leaning, travel and digital
	// purchases, the share of each merchant country.
	countryShare = [3][len(Countries)]float64{
		{0.88, 0.04, 0.04, 0.02, 0.02},
		{0.50, 0.12, 0.14, 0.12, 0.12},
		{0.60, 0.05, 0.05, 0.10, 0.20},
	}
	// abroadKm is how far from home (France) each country starts.
	abroadKm = [len(Countries)]float64{0, 700, 900, 800, 6500}
	// categoryRisk is each category's term in the log-odds of fraud.
	categoryRisk = [len(MerchantCategories)]float64{-0.4, -0.2, -0.3, 0.1, 0.4, 0.5}
)

// The bounds of the numeric fields. The generator keeps within them, and
// Features reports them, so that every generated record is valid.
const (
	minAmount  = 0.5
	maxAmount  = 20000
	maxKm      = 20000
	maxTx24h   = 100
	maxCardAge = 18250 // 50 years
	maxAvg30d  = 5000
)

// The hidden rule's thresholds and offset (see fraudProbability).
const (
	nightEnds   = 6   // night is hours 0 to 5
	youngCard   = 60  // a card younger than this many days is risky
	burstOver   = 4   // transactions in 24 hours beyond this are a burst
	spikeOver   = 1.2 // the log of amount over avg_amount_30d beyond this is a spike
	fraudOffset = -4.5
)

// Generate returns n synthetic card transactions drawn deterministically
// from seed; about 6% are fraud. Labels come from a hidden rule, logistic
// in terms that bend and interact: an amount well above the card's usual
// one (a hinge in the log of their ratio), night-time purchases without
// the card, a merchant abroad without the card, a card less than two
// months old, a burst of transactions, and the merchant's category, plus
// noise.
// A linear model on the encoded fields learns much of it but not all; a
// network with a hidden layer learns more.
func Generate(seed uint64, n int) *Dataset {
	return generate(rand.New(rand.NewPCG(seed, 0x66726175640a)), n, fraudProbability)
}

// generate draws n transactions from rng and labels each by rule, which
// gives its probability of fraud.
func generate(rng *rand.Rand, n int, rule func(*rand.Rand, []float64) float64) *Dataset {
	d := &Dataset{X: make([]float64, n*NumFeatures), Y: make([]int, n)}
	for i := range n {
		row := d.Row(i)
		transaction(rng, row)
		if rng.Float64() < rule(rng, row) {
			d.Y[i] = 1
		}
	}
	return d
}

// transaction fills row with one transaction's fields.
func transaction(rng *rand.Rand, row []float64) {
	cat := pick(rng, categoryShare[:])
	row[MerchantCategory] = float64(cat)
	present := rng.Float64() < presentShare[cat]
	row[CardPresent] = 0
	if present {
		row[CardPresent] = 1
	}
	shares := countryShare[0]
	switch cat {
	case travel:
		shares = countryShare[1]
	case digitalGoods:
		shares = countryShare[2]
	}
	country := pick(rng, shares[:])
	row[Country] = float64(country)

	km := abroadKm[country] + rng.ExpFloat64()*300
	if country == france {
		km = rng.ExpFloat64() * 40 // online: where the purchase was made from
		if present {
			km = rng.ExpFloat64() * 8
		}
	}
	row[DistanceFromHomeKm] = math.Min(math.Round(km*10)/10, maxKm)

	hour := rng.NormFloat64()*4 + 14 // mostly daytime shopping
	if cat == restaurant && present {
		hour = rng.NormFloat64()*2 + 20
	}
	if rng.Float64() < 0.12 {
		hour = rng.Float64() * 24
	}
	row[Hour] = math.Mod(math.Floor(hour)+48, 24)

	avg := math.Exp(rng.NormFloat64()*0.5 + 3.7) // about 40 euros
	row[AvgAmount30d] = math.Min(math.Max(math.Round(avg*100)/100, 1), maxAvg30d)
	amount := row[AvgAmount30d] * basket[cat] * math.Exp(rng.NormFloat64()*0.7)
	row[Amount] = math.Min(math.Max(math.Round(amount*100)/100, minAmount), maxAmount)

	row[TransactionsLast24h] = float64(min(poisson(rng, 2), maxTx24h))
	row[CardAgeDays] = math.Min(math.Floor(rng.ExpFloat64()*1000), maxCardAge)
}

// fraudProbability is the hidden rule: the probability that the
// transaction in row is fraud, with per-transaction noise on the log-odds.
func fraudProbability(rng *rand.Rand, row []float64) float64 {
	return sigmoid(fraudLogOdds(rng, row))
}

// fraudLogOdds is the hidden rule's log-odds of fraud for the
// transaction in row, noise included.
func fraudLogOdds(rng *rand.Rand, row []float64) float64 {
	present := row[CardPresent] == 1
	z := fraudOffset + categoryRisk[int(row[MerchantCategory])] +
		4.0*math.Max(math.Log(row[Amount]/row[AvgAmount30d])-spikeOver, 0) +
		1.0*math.Max(row[TransactionsLast24h]-burstOver, 0) +
		0.3*rng.NormFloat64()
	if present {
		z -= 0.8
	}
	if row[Hour] < nightEnds {
		z += either(present, -0.2, 3.0)
	}
	if row[Country] != france {
		z += either(present, -0.2, 3.0)
	}
	if row[CardAgeDays] < youngCard {
		z += 3.0
	}
	return z
}

// either returns a if c holds, else b.
func either(c bool, a, b float64) float64 {
	if c {
		return a
	}
	return b
}

// pick draws an index with the given probabilities, which sum to 1.
func pick(rng *rand.Rand, p []float64) int {
	u := rng.Float64()
	for i, pi := range p[:len(p)-1] {
		if u < pi {
			return i
		}
		u -= pi
	}
	return len(p) - 1
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

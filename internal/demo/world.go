package demo

import "math/rand/v2"

// shiftedStream is the second word of GenerateShifted's random state, so
// that its transactions differ from Generate's for the same seed.
const shiftedStream = 0x7368696674

// cardTesting is the shifted world's term in the log-odds of fraud for a
// small online purchase of digital goods from a French merchant.
const cardTesting = 7.0

// GenerateShifted returns n synthetic card transactions drawn
// deterministically from seed, as Generate draws them, but labelled by
// the hidden rule of a world where fraud has moved: fraudsters test
// stolen card numbers with small online purchases of digital goods from
// French merchants (card not present, an amount below the card's usual
// one), which the original rule calls low-risk, and buying from a
// foreign merchant without the card is no longer a sign of fraud, since
// cross-border online shopping became ordinary. The fields are drawn
// from the same distributions as Generate's, so a drift monitor sees
// nothing: only the labels tell. About 11% of the transactions are fraud.
// The same seed gives other transactions than Generate's.
func GenerateShifted(seed uint64, n int) *Dataset {
	return generate(rand.New(rand.NewPCG(seed, shiftedStream)), n, shiftedProbability)
}

// shiftedProbability is the shifted world's hidden rule: fraudProbability
// without the foreign-merchant term for a card not present, and with the
// card-testing term.
func shiftedProbability(rng *rand.Rand, row []float64) float64 {
	z := fraudLogOdds(rng, row)
	present := row[CardPresent] == 1
	if row[Country] != france && !present {
		z -= 3.0
	}
	if !present && row[Country] == france && int(row[MerchantCategory]) == digitalGoods && row[Amount] < row[AvgAmount30d] {
		z += cardTesting
	}
	return sigmoid(z)
}

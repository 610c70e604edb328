package demo

// The types of a field, as the records API names them.
const (
	TypeNumber   = "number"
	TypeInteger  = "integer"
	TypeBool     = "bool"
	TypeCategory = "category"
)

// Feature describes one field of a transaction record: what a client
// sends for it and where it reaches the models' input.
type Feature struct {
	// Name is the field's name in a record and a column's in WriteCSV's
	// header.
	Name string
	// Type is TypeNumber, TypeInteger, TypeBool or TypeCategory.
	Type string
	// Min and Max bound a number or an integer, inclusive; Generate keeps
	// within them. Both are zero for a bool or a category.
	Min, Max float64
	// Values lists a category's values in the order of its one-hot block;
	// nil for the other types.
	Values []string
	// Description says what the field means.
	Description string
	// Column is the field's first column in a row of the input: a number,
	// an integer or a bool takes one column, a category a one-hot block
	// of len(Values) columns.
	Column int
}

// Features returns the fields of a record in row order, in a new slice
// the caller owns; Values are shared and must not be modified.
func Features() []Feature {
	return []Feature{
		{Name: "amount", Type: TypeNumber, Min: 0, Max: maxAmount, Column: Amount,
			Description: "Amount of the transaction, in euros."},
		{Name: "hour", Type: TypeInteger, Min: 0, Max: 23, Column: Hour,
			Description: "Local hour of the transaction, 0 to 23."},
		{Name: "distance_from_home_km", Type: TypeNumber, Min: 0, Max: maxKm, Column: DistanceFromHomeKm,
			Description: "Distance from the cardholder's home to the terminal, or to where an online purchase was made from, in km."},
		{Name: "transactions_last_24h", Type: TypeInteger, Min: 0, Max: maxTx24h, Column: TransactionsLast24h,
			Description: "Transactions on the card in the 24 hours before this one."},
		{Name: "card_age_days", Type: TypeInteger, Min: 0, Max: maxCardAge, Column: CardAgeDays,
			Description: "Days since the card was issued."},
		{Name: "avg_amount_30d", Type: TypeNumber, Min: 0, Max: maxAvg30d, Column: AvgAmount30d,
			Description: "The card's mean transaction amount over the last 30 days, in euros."},
		{Name: "card_present", Type: TypeBool, Column: CardPresent,
			Description: "Whether the card was physically present (chip or contactless); false for online and phone orders."},
		{Name: "merchant_category", Type: TypeCategory, Values: MerchantCategories[:], Column: merchantColumn,
			Description: "The merchant's category."},
		{Name: "country", Type: TypeCategory, Values: Countries[:], Column: countryColumn,
			Description: "The merchant's country, ISO 3166-1 alpha-2; the cards are issued in France."},
	}
}

// Classes names the classes of the models' probabilities, in order: P(legit)
// then P(fraud). The slice is new and the caller's.
func Classes() []string { return []string{"legit", "fraud"} }

package modelstore

// The types of a feature, as Feature.Type names them.
const (
	TypeNumber   = "number"   // any finite number
	TypeInteger  = "integer"  // a whole number
	TypeCategory = "category" // one of Feature.Values, a string
	TypeBool     = "bool"     // true or false
)

// The encodings of a feature, as Feature.Encoding names them: how its
// value reaches the model.
const (
	// EncodeValue puts the value in one column (Position) of the input:
	// a number or integer as itself, a bool as 0 or 1, a category as the
	// index of its value in Values. It is the default.
	EncodeValue = "value"
	// EncodeOneHot puts a category in len(Values) columns starting at
	// Position: 1 in the column of its value's index, 0 in the others.
	EncodeOneHot = "one_hot"
)

// What the records API does with a field the schema does not name, as
// Manifest.UnknownFields says.
const (
	UnknownReject = "reject" // a 422 naming the field; the default
	UnknownIgnore = "ignore" // the field is dropped
)

// Feature describes one named input feature of the records API: what a
// client sends for it and how it reaches the model.
//
//	{"name": "amount", "type": "number", "min": 0, "description": "in cents", "position": 0}
//	{"name": "country", "type": "category", "values": ["FR", "DE", "US"], "encoding": "one_hot", "position": 5}
//	{"name": "is_foreign", "type": "bool", "default": false, "position": 8}
//	{"name": "merchant", "type": "category", "values": ["food", "travel"], "input": "merchant_id"}
type Feature struct {
	// Name is the field name in a record.
	Name string `json:"name" yaml:"name"`
	// Type is TypeNumber, TypeInteger, TypeCategory or TypeBool.
	Type string `json:"type" yaml:"type"`
	// Min and Max bound a number or integer when set, inclusive.
	Min *float64 `json:"min,omitempty" yaml:"min"`
	Max *float64 `json:"max,omitempty" yaml:"max"`
	// Values lists the allowed values of a category, in the order its
	// index encoding uses.
	Values []string `json:"values,omitempty" yaml:"values"`
	// Default, when set, makes the field optional: a record without it
	// gets this value. It must be a value the feature allows (a JSON
	// number, string or bool as Type says).
	Default any `json:"default,omitempty" yaml:"default"`
	// Description says what the field means, for the API's documentation.
	Description string `json:"description,omitempty" yaml:"description"`
	// Input names the model input the feature feeds; empty means the
	// model's only input. An input of the feature's own has shape [rows]
	// or [rows, 1] and takes the value as its element type.
	Input string `json:"input,omitempty" yaml:"input"`
	// Encoding is EncodeValue (empty means it) or, for a category,
	// EncodeOneHot.
	Encoding string `json:"encoding,omitempty" yaml:"encoding"`
	// Position is the feature's first column in a row of Input, for an
	// input of shape [rows, columns].
	Position int `json:"position" yaml:"position"`
}

// Schema is a version's records schema: what publish --schema reads and
// the manifest keeps (Manifest.Features, Classes and UnknownFields).
type Schema struct {
	// Features are the named fields of a record, each with where it goes
	// in the model's inputs.
	Features []Feature `json:"features" yaml:"features"`
	// Classes names the classes of a classifier's probabilities, in the
	// order of its output's columns; empty for a regressor or when the
	// classes keep their indices as names.
	Classes []string `json:"classes,omitempty" yaml:"classes"`
	// UnknownFields is UnknownReject (empty means it) or UnknownIgnore.
	UnknownFields string `json:"unknown_fields,omitempty" yaml:"unknown_fields"`
}

// SchemaOf returns the manifest's records schema, or nil when m is nil or
// has no features. The schema shares the manifest's slices.
func (m *Manifest) SchemaOf() *Schema {
	if m == nil || len(m.Features) == 0 {
		return nil
	}
	return &Schema{Features: m.Features, Classes: m.Classes, UnknownFields: m.UnknownFields}
}

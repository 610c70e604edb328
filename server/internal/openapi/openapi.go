// Package openapi holds the parts of an OpenAPI 3.1 document the
// server's documents use, marshalled with encoding/json, and helpers that
// build operations. The server and its audience packages describe their
// endpoints with it; package server assembles the documents. Values are
// plain data: build them, then treat them as read-only.
package openapi

import (
	"encoding/json"
	"fmt"
)

// Version is the version of the OpenAPI specification the documents
// follow. Their schemas are JSON Schema 2020-12, its dialect.
const Version = "3.1.0"

// mediaJSON is the media type of JSON bodies.
const mediaJSON = "application/json"

// The JSON Schema types of the documents.
const (
	TypeObject  = "object"
	TypeArray   = "array"
	TypeString  = "string"
	TypeNumber  = "number"
	TypeInteger = "integer"
	TypeBoolean = "boolean"
)

// Ref returns a reference to the schema called name in components.
func Ref(name string) *Schema { return &Schema{Ref: "#/components/schemas/" + name} }

// RefResponse returns a reference to the response called name in
// components.
func RefResponse(name string) *Response { return &Response{Ref: "#/components/responses/" + name} }

// Bound returns a pointer to v, for a minimum or maximum.
func Bound(v float64) *float64 { return &v }

// ErrorStatus gives the status of each error response in components,
// by name, for Op. Callers must not modify it.
var ErrorStatus = map[string]string{
	"BadRequest": "400", "Unauthorized": "401", "NotFound": "404", "TooLarge": "413",
	"ValidationFailed": "422", "Unavailable": "503", "Timeout": "504",
}

// Op returns an operation that answers ok as its 200 and the named error
// responses of components.
func Op(tag, id, summary string, ok *Response, errs ...string) *Operation {
	o := &Operation{Tags: []string{tag}, OperationID: id, Summary: summary, Responses: map[string]*Response{"200": ok}}
	for _, e := range errs {
		o.Responses[ErrorStatus[e]] = RefResponse(e)
	}
	return o
}

// WithParams sets o's parameters and returns o.
func (o *Operation) WithParams(ps ...Parameter) *Operation {
	o.Parameters = ps
	return o
}

// WithBody sets o's request body to JSON of schema s and returns o.
func (o *Operation) WithBody(s *Schema, required bool) *Operation {
	o.RequestBody = &RequestBody{Required: required, Content: map[string]Media{mediaJSON: {Schema: s}}}
	return o
}

// JSONOK returns a 200 response with a JSON body of schema s.
func JSONOK(desc string, s *Schema) *Response {
	return &Response{Description: desc, Content: map[string]Media{mediaJSON: {Schema: s}}}
}

// TextOK returns a 200 response with a plain-text body.
func TextOK(desc string) *Response {
	return &Response{Description: desc, Content: map[string]Media{"text/plain": {Schema: &Schema{Type: TypeString}}}}
}

// Object returns an object schema with the given properties, in order,
// of which required are required.
func Object(desc string, required []string, props ...Member[*Schema]) *Schema {
	return &Schema{Type: TypeObject, Description: desc, Required: required, Properties: props}
}

// Prop is a property of Object.
func Prop(name string, s *Schema) Member[*Schema] { return Member[*Schema]{name, s} }

// Str returns a string schema described by desc.
func Str(desc string) *Schema { return &Schema{Type: TypeString, Description: desc} }

// ArrayOf returns the schema of an array of items.
func ArrayOf(items *Schema) *Schema { return &Schema{Type: TypeArray, Items: items} }

// The types below are the parts of an OpenAPI 3.1 document the server's
// documents use, marshalled with encoding/json.

// Doc is an OpenAPI document.
type Doc struct {
	OpenAPI    string         `json:"openapi"`
	Info       Info           `json:"info"`
	Tags       []Tag          `json:"tags,omitempty"`
	Paths      Map[*PathItem] `json:"paths"`
	Components Components     `json:"components"`
}

// Info is a document's title, version and description.
type Info struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

// Tag names a group of operations.
type Tag struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Components holds what operations refer to: schemas, responses and
// security schemes.
type Components struct {
	Schemas         Map[*Schema]              `json:"schemas,omitempty"`
	Responses       map[string]*Response      `json:"responses,omitempty"`
	SecuritySchemes map[string]SecurityScheme `json:"securitySchemes,omitempty"`
}

// SecurityScheme is a way to authenticate.
type SecurityScheme struct {
	Type        string `json:"type"`
	Scheme      string `json:"scheme,omitempty"`
	Description string `json:"description,omitempty"`
}

// PathItem is the operations of one path, by method.
type PathItem struct {
	Get    *Operation `json:"get,omitempty"`
	Put    *Operation `json:"put,omitempty"`
	Post   *Operation `json:"post,omitempty"`
	Delete *Operation `json:"delete,omitempty"`
	Patch  *Operation `json:"patch,omitempty"`
}

// Operation is one method of one path.
type Operation struct {
	Tags        []string             `json:"tags,omitempty"`
	Summary     string               `json:"summary,omitempty"`
	Description string               `json:"description,omitempty"`
	OperationID string               `json:"operationId,omitempty"`
	Parameters  []Parameter          `json:"parameters,omitempty"`
	RequestBody *RequestBody         `json:"requestBody,omitempty"`
	Responses   map[string]*Response `json:"responses"`
	// Security lists the ways to authenticate, any one of which
	// suffices; nil for none.
	Security []map[string][]string `json:"security,omitempty"`
}

// Parameter is a path, query or header parameter.
type Parameter struct {
	Name        string  `json:"name"`
	In          string  `json:"in"`
	Description string  `json:"description,omitempty"`
	Required    bool    `json:"required,omitempty"`
	Explode     *bool   `json:"explode,omitempty"`
	Schema      *Schema `json:"schema"`
	Example     any     `json:"example,omitempty"`
}

// RequestBody is an operation's body, by media type.
type RequestBody struct {
	Required bool             `json:"required,omitempty"`
	Content  map[string]Media `json:"content"`
}

// Media is the schema and an example of a body of one media type.
type Media struct {
	Schema  *Schema `json:"schema,omitempty"`
	Example any     `json:"example,omitempty"`
}

// Response is a response, or with Ref a reference to one in components.
type Response struct {
	Ref         string            `json:"$ref,omitempty"`
	Description string            `json:"description,omitempty"`
	Headers     map[string]Header `json:"headers,omitempty"`
	Content     map[string]Media  `json:"content,omitempty"`
}

// Header is a response header.
type Header struct {
	Description string  `json:"description,omitempty"`
	Schema      *Schema `json:"schema"`
}

// Schema is the part of JSON Schema 2020-12 the documents use. A nil
// Default or AdditionalProperties is left out; AdditionalProperties is
// false to refuse other properties.
type Schema struct {
	Ref                  string       `json:"$ref,omitempty"`
	Type                 string       `json:"type,omitempty"`
	Description          string       `json:"description,omitempty"`
	Enum                 []string     `json:"enum,omitempty"`
	Minimum              *float64     `json:"minimum,omitempty"`
	Maximum              *float64     `json:"maximum,omitempty"`
	Default              any          `json:"default,omitempty"`
	Items                *Schema      `json:"items,omitempty"`
	MinItems             int          `json:"minItems,omitempty"`
	MaxItems             int          `json:"maxItems,omitempty"`
	Properties           Map[*Schema] `json:"properties,omitempty"`
	Required             []string     `json:"required,omitempty"`
	AdditionalProperties any          `json:"additionalProperties,omitempty"`
	OneOf                []*Schema    `json:"oneOf,omitempty"`
}

// Map is a JSON object whose members keep the order they were added in,
// so that a model's fields are listed in the schema's order.
type Map[V any] []Member[V]

// Member is one member of a Map.
type Member[V any] struct {
	Key   string
	Value V
}

// Add appends the member key: v.
func (m *Map[V]) Add(key string, v V) { *m = append(*m, Member[V]{key, v}) }

// MarshalJSON implements json.Marshaler.
func (m Map[V]) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, e := range m {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(e.Key)
		if err != nil {
			return nil, fmt.Errorf("openapi: key %q: %w", e.Key, err)
		}
		b = append(b, k...)
		b = append(b, ':')
		v, err := json.Marshal(e.Value)
		if err != nil {
			return nil, fmt.Errorf("openapi: member %q: %w", e.Key, err)
		}
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

// ErrorResponse returns a response with description desc and a body of
// the Error schema, {"error": "..."}.
func ErrorResponse(desc string) *Response {
	return &Response{Description: desc, Content: map[string]Media{mediaJSON: {Schema: Ref("Error")}}}
}

// ModelParam is the {model} path parameter.
var ModelParam = Parameter{Name: "model", In: "path", Required: true, Description: "The model's name.",
	Schema: &Schema{Type: TypeString}}

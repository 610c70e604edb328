package modelstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard-ml/switchyard/internal/regfile"
	"github.com/switchyard-ml/switchyard/internal/suggest"
)

// ReadSchemaFile returns the bytes of the schema file at path (publish
// --schema) for ParseSchema. A file that is not a regular file or is
// larger than MaxSchemaBytes is refused before it is read, with an error
// naming the file and the limit. The slice is the caller's.
func ReadSchemaFile(path string) ([]byte, error) {
	return regfile.Read(path, schemaLimit)
}

// ParseSchema reads a schema file: JSON when its first non-blank
// character is '{', YAML otherwise. Decoding is strict: a key the schema
// does not know is refused, and named. It checks only the syntax; Check
// validates the content. Errors wrap ErrSchema.
func ParseSchema(data []byte) (*Schema, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty file", ErrSchema)
	}
	var s Schema
	if trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return nil, fmt.Errorf("%w: json: %s", ErrSchema, jsonMessage(err))
		}
		if dec.More() {
			return nil, fmt.Errorf("%w: json: data after the schema object", ErrSchema)
		}
		return &s, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	switch err := dec.Decode(&s); {
	case err == io.EOF:
		return nil, fmt.Errorf("%w: yaml: no document, only comments", ErrSchema)
	case err != nil:
		return nil, fmt.Errorf("%w: yaml: %s", ErrSchema, yamlMessage(err))
	}
	if err := dec.Decode(new(yaml.Node)); err != io.EOF {
		return nil, fmt.Errorf("%w: yaml: more than one document", ErrSchema)
	}
	// YAML decodes a whole number into an int: give defaults the JSON
	// kinds the manifest will hold.
	for i := range s.Features {
		switch d := s.Features[i].Default.(type) {
		case int:
			s.Features[i].Default = float64(d)
		case uint64:
			s.Features[i].Default = float64(d)
		}
	}
	return &s, nil
}

// jsonMessage words a JSON decoding error naming the schema's fields
// rather than Go's types.
func jsonMessage(err error) string {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
		return fmt.Sprintf("%s: a %s where %s belongs", te.Field, te.Value, te.Type)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if name, ok := strings.CutPrefix(msg, "unknown field "); ok {
		if name, err := strconv.Unquote(name); err == nil {
			msg += suggest.Hint(name, append(tagNames(reflect.TypeFor[Schema](), "json"), tagNames(reflect.TypeFor[Feature](), "json")...))
		}
	}
	return msg
}

// unknownYAMLField matches yaml's word for a key no field takes.
var unknownYAMLField = regexp.MustCompile(`field (\S+) not found in type modelstore\.(Feature|Schema)`)

// tagNames returns the names that struct type t's fields take in the
// encoding tag (json or yaml).
func tagNames(t reflect.Type, tag string) []string {
	var names []string
	for f := range t.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get(tag), ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// yamlMessage words a YAML decoding error on one line, naming the
// schema's parts rather than Go's types.
func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	msg = unknownYAMLField.ReplaceAllStringFunc(msg, func(m string) string {
		sub := unknownYAMLField.FindStringSubmatch(m)
		t := reflect.TypeFor[Schema]()
		if sub[2] == "Feature" {
			t = reflect.TypeFor[Feature]()
		}
		return m + suggest.Hint(sub[1], tagNames(t, "yaml"))
	})
	msg = strings.NewReplacer(" in type modelstore.Feature", " in a feature", " in type modelstore.Schema", " in the schema",
		"modelstore.Feature", "a feature", "modelstore.Schema", "a schema (a mapping)").Replace(msg)
	return strings.Join(strings.Fields(msg), " ")
}

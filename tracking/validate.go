package tracking

import (
	"fmt"
	"math"
	"path"
	"regexp"
	"strings"
)

// Limits MLflow enforces on logged data (mlflow/utils/validation.py).
const (
	MaxParamsTagsPerBatch = 100
	MaxMetricsPerBatch    = 1000
	MaxEntitiesPerBatch   = 1000
	MaxKeyLength          = 250
	MaxParamValueLength   = 6000
	MaxTagValueLength     = 8000
)

// validKey matches the names MLflow accepts for params, metrics and tags:
// alphanumerics, underscores, dashes, periods, spaces, colons and slashes.
var validKey = regexp.MustCompile(`^[/\w.\- :]*$`)

// validateKey checks a param, metric or tag name as MLflow does.
func validateKey(kind, key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: missing value for required parameter 'key' of a %s", ErrInvalid, kind)
	case len(key) > MaxKeyLength:
		return fmt.Errorf("%w: %s name '%s' had length %d, which exceeded length limit of %d", ErrInvalid, kind, key, len(key), MaxKeyLength)
	case !validKey.MatchString(key):
		return fmt.Errorf("%w: invalid %s name: '%s'; names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/)", ErrInvalid, kind, key)
	case path.IsAbs(key) || strings.Contains(path.Clean(key), ".."):
		return fmt.Errorf("%w: invalid %s name: '%s'; names may be treated as files in certain cases, and must not resolve to other names when treated as such", ErrInvalid, kind, key)
	}
	return nil
}

func validateTags(tags []Tag) error {
	for _, t := range tags {
		if err := validateKey("tag", t.Key); err != nil {
			return err
		}
		if len(t.Value) > MaxTagValueLength {
			return fmt.Errorf("%w: tag '%s' had value length %d, which exceeded length limit of %d", ErrInvalid, t.Key, len(t.Value), MaxTagValueLength)
		}
	}
	return nil
}

func validateParams(params []Param) error {
	for _, p := range params {
		if err := validateKey("param", p.Key); err != nil {
			return err
		}
		if len(p.Value) > MaxParamValueLength {
			return fmt.Errorf("%w: param '%s' had value length %d, which exceeded length limit of %d", ErrInvalid, p.Key, len(p.Value), MaxParamValueLength)
		}
	}
	return nil
}

func validateMetrics(metrics []Metric) error {
	for _, m := range metrics {
		if err := validateKey("metric", m.Key); err != nil {
			return err
		}
	}
	return nil
}

// validateBatch checks a log-batch against MLflow's limits.
func validateBatch(metrics []Metric, params []Param, tags []Tag) error {
	switch {
	case len(metrics) > MaxMetricsPerBatch:
		return fmt.Errorf("%w: a batch logging request can contain at most %d metrics; got %d", ErrInvalid, MaxMetricsPerBatch, len(metrics))
	case len(params) > MaxParamsTagsPerBatch:
		return fmt.Errorf("%w: a batch logging request can contain at most %d params; got %d", ErrInvalid, MaxParamsTagsPerBatch, len(params))
	case len(tags) > MaxParamsTagsPerBatch:
		return fmt.Errorf("%w: a batch logging request can contain at most %d tags; got %d", ErrInvalid, MaxParamsTagsPerBatch, len(tags))
	case len(metrics)+len(params)+len(tags) > MaxEntitiesPerBatch:
		return fmt.Errorf("%w: a batch logging request can contain at most %d metrics, params and tags in total; got %d", ErrInvalid, MaxEntitiesPerBatch, len(metrics)+len(params)+len(tags))
	}
	seen := map[string]string{}
	for _, p := range params {
		if v, dup := seen[p.Key]; dup && v != p.Value {
			return fmt.Errorf("%w: duplicate parameter keys have been submitted: '%s' with values '%s' and '%s'", ErrInvalid, p.Key, v, p.Value)
		}
		seen[p.Key] = p.Value
	}
	if err := validateMetrics(metrics); err != nil {
		return err
	}
	if err := validateParams(params); err != nil {
		return err
	}
	return validateTags(tags)
}

// storedValue returns how a metric value is kept: SQLite has no NaN.
func storedValue(v float64) (value any, isNaN bool) {
	if math.IsNaN(v) {
		return nil, true
	}
	return v, false
}

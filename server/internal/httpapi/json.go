package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/valyala/fasthttp"
)

// WriteJSON answers with status and v encoded by encoding/json; it is
// for answers off the inference path. An encoding failure is answered
// as a 500.
func WriteJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		WriteError(ctx, fmt.Errorf("encode response: %w", err))
		return
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType(ContentTypeJSON)
	ctx.SetBody(body)
}

// AppendErrorJSON appends {"error":"..."} carrying msg to dst and returns
// the extended slice.
func AppendErrorJSON(dst []byte, msg string) []byte {
	dst = append(dst, `{"error":`...)
	dst = AppendJSONString(dst, msg)
	return append(dst, '}')
}

// Double is a float64 that may be NaN or infinite, written as MLflow
// writes those: "NaN", "Infinity", "-Infinity".
type Double float64

// MarshalJSON writes finite values as numbers and the others as strings.
func (d Double) MarshalJSON() ([]byte, error) {
	f := float64(d)
	switch {
	case math.IsNaN(f):
		return []byte(`"NaN"`), nil
	case math.IsInf(f, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Infinity"`), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON accepts a number, a numeric string, or "NaN",
// "Infinity", "-Infinity".
func (d *Double) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	switch s {
	case "NaN":
		*d = Double(math.NaN())
		return nil
	case "Infinity":
		*d = Double(math.Inf(1))
		return nil
	case "-Infinity":
		*d = Double(math.Inf(-1))
		return nil
	case "true", "false", "null":
		return fmt.Errorf("%s is not a number", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("%s is not a number", b)
	}
	*d = Double(f)
	return nil
}

package server

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// FuzzDecodeRecords holds the records decoder to its contract on any
// body, with unknown fields refused or ignored: it never panics; its
// errors are a *httpapi.RequestError or a *problemsError whose problems name real
// instances with the documented codes; the one-pass fast path accepts
// only what the full decoder accepts, and decodes it alike; and whatever
// decodes encodes back: the instances written again from the tensors,
// every field explicit, decode to the same tensors.
func FuzzDecodeRecords(f *testing.F) {
	for _, seed := range []string{
		`{"instances":[{"amount":12.5,"hour":7,"country":"DE","is_foreign":true,"merchant":"games","count":-3,"ratio":1e-300,"flag":false}]}`,
		`{"instances":[{"flag":null,"count":2147483647,"country":"US","hour":2.0e1,"amount":0,"is_foreign":null,"merchant":"food"},` +
			`{"amount":1e6,"hour":0,"country":"FR","count":0,"ratio":-0.5}]}`,
		`{"instances":[{"amount":1,"hour":1,"country":"FR","count":1,"colour":"red","x":[1,{"y":null}]}]}`,
		`{"instances":[{"amount":"1","hour":1.5,"country":"XX","count":1e19},{},{"amount":NaN,"ratio":-Inf,"flag":0}]}`,
		`{"instances": [{"amount": Infinity, "hour": NaN, "country": "FR", "count": -Infinity, "merchant": "Infinity", "ratio": -Infinity}]}`,
		`{"instances":[{"amount":1,"hour":1,"country":Infinity,"count":1,"flag":Infinity},{"amount":-Infinityx}]}`,
		`{"instances":[{"amount":1,"hour":1,"country":"F\u0052","count":1,"am\u006fount":2}]}`,
		` { "instances" : [ { "amount" : 01 , "hour" : 1 , "country" : "FR" , "count" : 1 } ] } `,
		`{"instances":[{"amount":1,"amount":null,"hour":1,"country":"FR","count":1}],"id":"x"}`,
		`{"instances":[{"amount":3.4028235e38,"hour":23,"country":"US","count":-2147483648,"ratio":1.7976931348623157e308}]}`,
		`[1]`, `{"instances":[]}`, `{"instances":[1]}`, ``,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	strict := testRecordSchema(f, recMixedSig(), recMixedFeatures(), "")
	lax := testRecordSchema(f, recMixedSig(), recMixedFeatures(), modelstore.UnknownIgnore)
	fuzzRecords(f, strict, lax)
}

// fuzzRecords fuzzes the records decoders with schema strict, or lax (the
// same, ignoring unknown fields): the fast path accepts only what the full
// parser accepts and decodes it alike, every refusal is one
// decodeRecords may return, and what decodes, written again, decodes the
// same.
func fuzzRecords(f *testing.F, strict, lax *recordSchema) {
	f.Fuzz(func(t *testing.T, body []byte, ignore bool) {
		sch := strict
		if ignore {
			sch = lax
		}
		var fast, full records
		fastOK := fastRecords(body, sch, &fast)
		full.reset()
		p := codecParsers.Get()
		err := full.parse(p, body, sch)
		codecParsers.Put(p)
		if err != nil {
			if fastOK {
				t.Fatalf("fastRecords(%q) accepted what parse refuses: %v", body, err)
			}
			checkRecordsError(t, body, err, full.rows)
			return
		}
		if fastOK && !sameRecords(&fast, &full) {
			t.Fatalf("fastRecords(%q) decoded\n%v\nparse decoded\n%v", body, fast.inputs, full.inputs)
		}
		again := encodeInstances(t, sch, &full)
		var back records
		if err := decodeRecords(again, sch, &back); err != nil {
			t.Fatalf("decodeRecords(%q) = %v; it was written from what %q decodes to", again, err, body)
		}
		if !sameRecords(&back, &full) {
			t.Fatalf("%q decodes to\n%v\nwritten again as %q it decodes to\n%v", body, full.inputs, again, back.inputs)
		}
	})
}

// checkRecordsError checks that err is one decodeRecords may return, for
// a request of rows instances (0 when its structure was refused first).
func checkRecordsError(t *testing.T, body []byte, err error, rows int) {
	t.Helper()
	if _, ok := errors.AsType[*httpapi.RequestError](err); ok {
		return
	}
	pe, ok := errors.AsType[*problemsError](err)
	if !ok || len(pe.problems) == 0 {
		t.Fatalf("decodeRecords(%q) = %T %v; want a *httpapi.RequestError or problems", body, err, err)
	}
	codes := []string{problemMissing, problemType, problemRange, problemNotAllowed, problemUnknown, problemNotFinite}
	for k, p := range pe.problems {
		if p.instance < 0 || p.instance >= rows || k > 0 && p.instance < pe.problems[k-1].instance ||
			!slices.Contains(codes, p.code) || p.message == "" {
			t.Fatalf("decodeRecords(%q): problem %+v of %d instances", body, p, rows)
		}
	}
	if !json.Valid(pe.AppendJSON(nil)) {
		t.Fatalf("decodeRecords(%q): invalid 422 body %s", body, pe.AppendJSON(nil))
	}
}

// sameRecords reports whether a and b hold the same inputs.
func sameRecords(a, b *records) bool {
	return a.rows == b.rows && slices.EqualFunc(a.inputs, b.inputs, func(x, y engine.Tensor) bool {
		return x.Name == y.Name && x.DType == y.DType && slices.Equal(x.Shape, y.Shape) && string(x.Data) == string(y.Data)
	})
}

// encodeInstances writes the instances r holds as a records request,
// every field explicit, reading each value back from its input as the
// layout places it.
func encodeInstances(t *testing.T, sch *recordSchema, r *records) []byte {
	b := []byte(`{"instances":[`)
	for i := range r.rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		for f := range sch.features {
			feat := &sch.features[f]
			fs := sch.layout.Features[f]
			slot := sch.layout.Inputs[fs.Input]
			at := i*slot.Columns + fs.Column
			if f > 0 {
				b = append(b, ',')
			}
			b = httpapi.AppendJSONString(b, feat.Name)
			b = append(b, ':')
			switch {
			case feat.Type == modelstore.TypeCategory && fs.Width > 1:
				k := -1
				for j := range fs.Width {
					if element(r.inputs[fs.Input], at+j) == 1 {
						k = j
					}
				}
				if k < 0 {
					t.Fatalf("one-hot %s of instance %d has no 1", feat.Name, i)
				}
				b = httpapi.AppendJSONString(b, feat.Values[k])
			case feat.Type == modelstore.TypeCategory:
				b = httpapi.AppendJSONString(b, feat.Values[int(element(r.inputs[fs.Input], at))])
			case feat.Type == modelstore.TypeBool:
				b = strconv.AppendBool(b, element(r.inputs[fs.Input], at) == 1)
			case slot.DType == engine.FP32:
				b = strconv.AppendFloat(b, element(r.inputs[fs.Input], at), 'g', -1, 32)
			default:
				b = strconv.AppendFloat(b, element(r.inputs[fs.Input], at), 'g', -1, 64)
			}
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// element returns element k of t as a float64.
func element(t engine.Tensor, k int) float64 {
	le := binary.LittleEndian
	switch t.DType {
	case engine.FP32:
		return float64(math.Float32frombits(le.Uint32(t.Data[4*k:])))
	case engine.FP64:
		return math.Float64frombits(le.Uint64(t.Data[8*k:]))
	case engine.INT64:
		return float64(int64(le.Uint64(t.Data[8*k:])))
	case engine.INT32:
		return float64(int32(le.Uint32(t.Data[4*k:])))
	case engine.BOOL:
		return float64(t.Data[k])
	}
	panic(fmt.Sprintf("element of %s", t.DType))
}

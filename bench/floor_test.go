package bench

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/internal/onnx"
)

func TestServeFloor(t *testing.T) {
	t.Run("plain", func(t *testing.T) { testServeFloor(t, FloorConfig{}) })
	t.Run("model", func(t *testing.T) { testServeFloor(t, FloorConfig{Model: compareModels()[0].mlp.Model().Marshal()}) })
}

// TestServeFloorBadModel checks that a model the floor cannot run stops it
// at once with an error, and closes the listener.
func TestServeFloorBadModel(t *testing.T) {
	for name, model := range map[string][]byte{
		"not onnx":      []byte("not a model"),
		"no batch axis": (&onnx.Affine{Shape: []onnx.Dim{onnx.DimValue(1), onnx.DimValue(4)}, Scale: 2}).Model().Marshal(),
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		err = ServeFloor(context.Background(), ln, FloorConfig{Model: model})
		if err == nil || !strings.Contains(err.Error(), "floor model") {
			t.Errorf("%s: ServeFloor = %v; want a floor model error", name, err)
		}
		if _, aerr := ln.Accept(); aerr == nil {
			t.Errorf("%s: the listener is still open", name)
		}
	}
}

func testServeFloor(t *testing.T, cfg FloorConfig) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeFloor(ctx, ln, cfg) }()

	f := func(method, path, body string) {
		t.Helper()
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI("http://" + ln.Addr().String() + path)
		req.Header.SetMethod(method)
		req.SetBodyString(body)
		if err := fasthttp.DoTimeout(req, resp, 5*time.Second); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		if resp.StatusCode() != 200 || string(resp.Header.ContentType()) != "application/json" || string(resp.Body()) != FloorBody {
			t.Fatalf("%s %s = %d %q %s; want 200, application/json and FloorBody", method, path, resp.StatusCode(), resp.Header.ContentType(), resp.Body())
		}
	}
	f("POST", "/v2/models/small/infer", string(InferBody("input", 1, 30, 1)))
	f("GET", "/v2/health/ready", "")
	f("DELETE", "/anything/else", "")

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ServeFloor after cancel = %v; want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeFloor did not return after cancel")
	}
}

// TestFloorBodyShape checks that the floor answers what switchyard would
// for one row of the small model.
func TestFloorBodyShape(t *testing.T) {
	var got struct {
		ModelName    string `json:"model_name"`
		ModelVersion string `json:"model_version"`
		Outputs      []struct {
			Name     string
			Datatype string
			Shape    []int
			Data     []float64
		}
	}
	if err := json.Unmarshal([]byte(FloorBody), &got); err != nil {
		t.Fatal(err)
	}
	if got.ModelName != SmallModel || len(got.Outputs) != 1 || len(got.Outputs[0].Data) != 2 || got.Outputs[0].Name != "output" {
		t.Fatalf("FloorBody = %+v; want one output of two values from model %q", got, SmallModel)
	}
}

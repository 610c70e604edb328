package bench

import (
	"context"
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

func TestServeFloor(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeFloor(ctx, ln, []byte(FloorBody)) }()

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

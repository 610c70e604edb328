package bench

import (
	"fmt"
	"runtime"
	"time"

	"github.com/switchyard-ml/switchyard/engine"
)

// Machine says when and on what a benchmark report was made. Reports
// embed it, so its fields sit at the top of their JSON.
type Machine struct {
	Time       time.Time `json:"time"`
	GoVersion  string    `json:"go_version"`
	OS         string    `json:"os"`
	Arch       string    `json:"arch"`
	CPUs       int       `json:"cpus"`
	ORTVersion string    `json:"ort_version"`
}

// thisMachine describes this process's machine, now. engine.Init must
// have been called for ORTVersion.
func thisMachine() Machine {
	return Machine{Time: time.Now().UTC(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		CPUs: runtime.NumCPU(), ORTVersion: engine.ORTVersion}
}

// String reads "go1.26.8 linux/amd64, 2 CPUs, onnxruntime 1.24.1", as
// report headers print it.
func (m Machine) String() string {
	return fmt.Sprintf("%s %s/%s, %d CPUs, onnxruntime %s", m.GoVersion, m.OS, m.Arch, m.CPUs, m.ORTVersion)
}

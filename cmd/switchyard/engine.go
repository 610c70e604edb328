package main

import (
	"flag"
	"os"

	"github.com/switchyard-ml/switchyard/engine"
)

// engineFlags are the flags of every verb that runs onnxruntime.
type engineFlags struct {
	ortLib string
	cfg    engine.Config
}

func (e *engineFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&e.ortLib, "ort-lib", os.Getenv("SWITCHYARD_ORT_LIB"),
		"path of libonnxruntime.so.1 (default $SWITCHYARD_ORT_LIB, else the cache that make ort fills)")
	fs.IntVar(&e.cfg.IntraOpThreads, "intra-op-threads", 1, "threads one model run may use inside an operator")
	fs.IntVar(&e.cfg.InterOpThreads, "inter-op-threads", 1, "threads for running independent operators in parallel")
}

// init loads onnxruntime.
func (e *engineFlags) init() error {
	path, err := engine.LocateLibrary(e.ortLib)
	if err != nil {
		return err
	}
	return engine.Init(path)
}

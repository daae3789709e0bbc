package main

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "update .golden files")

// binDir holds programs the tests build once per run.
var binDir string

// liveParallel is how many parallel tests run at once unless -test.parallel
// says: the parallel ones are live tests that mostly wait (for sockets to
// age, for a command's hold), each on processes of its own, so the
// default, GOMAXPROCS, would queue two cores' worth of sleeping.
const liveParallel = 8

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", fmt.Sprint(liveParallel))
	}
	var err error
	if binDir, err = os.MkdirTemp("", "sockleak-test-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

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

func TestMain(m *testing.M) {
	flag.Parse()
	var err error
	if binDir, err = os.MkdirTemp("", "sockleak-test-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

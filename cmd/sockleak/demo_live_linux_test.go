//go:build linux

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sockleak/sockleak/internal/livetest"
)

// asSockleakEnv makes this test binary run as sockleak itself: the demo
// runs its clients by re-executing the program it runs in, which in a
// test is the test binary, with the hidden subcommand demoClientCmd. No
// sockleak to build. init runs before TestMain, so the child does nothing
// of the tests'.
const asSockleakEnv = "SOCKLEAK_TEST_AS_SOCKLEAK"

func init() {
	if os.Getenv(asSockleakEnv) == "1" {
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
}

func TestDemoSmall(t *testing.T) {
	livetest.Skip(t)
	// For the demo's children, not this process; under -race, a child
	// that exits would sleep a second first.
	t.Setenv(asSockleakEnv, "1")
	t.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	err = runDemo(ctx, &DemoOptions{Transactions: 24, FDLimit: 16, Timeout: 30 * time.Millisecond, Delay: 100 * time.Millisecond,
		Out: &out})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	t.Logf("demo took %v", time.Since(start))
	text := out.String()
	var cw []string
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "CLOSE_WAIT" {
			cw = f
		}
	}
	if cw == nil || cw[1] == "0" || cw[2] != "0" {
		t.Errorf("CLOSE_WAIT row = %q, want leaky > 0 and reference 0:\n%s", cw, text)
	}
	for _, want := range []string{"too many open files (EMFILE)", "EMFILE at #", "[close_wait]", "(the reference client): no findings", "24 of 24"} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	// Nothing left running: no demo client survives the demo.
	if b, _ := exec.Command("pgrep", "-f", exe+" "+demoClientCmd).Output(); len(b) > 0 {
		t.Errorf("demo clients still running: %s", b)
	}
}

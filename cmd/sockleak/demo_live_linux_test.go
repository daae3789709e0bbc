//go:build linux

package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildSockleakOnce sync.Once
	sockleakBin       string
	buildSockleakErr  error
)

// buildSockleak builds this command once per test binary: the demo runs
// its clients by re-executing it.
func buildSockleak(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go toolchain not in PATH: cannot build sockleak for the demo's clients")
	}
	buildSockleakOnce.Do(func() {
		out := filepath.Join(binDir, "sockleak")
		if b, err := exec.Command(goBin, "build", "-o", out, ".").CombinedOutput(); err != nil {
			buildSockleakErr = err
			t.Logf("%s", b)
			return
		}
		sockleakBin = out
	})
	if buildSockleakErr != nil {
		t.Fatalf("go build: %v", buildSockleakErr)
	}
	return sockleakBin
}

func TestDemoShortMode(t *testing.T) {
	exe := buildSockleak(t)
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	err := runDemo(ctx, &DemoOptions{Transactions: 24, FDLimit: 16, Timeout: 30 * time.Millisecond, Delay: 100 * time.Millisecond,
		Exe: exe, Out: &out})
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

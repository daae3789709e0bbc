package run

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWriteText(t *testing.T) {
	res := leakingResult(t)
	var b bytes.Buffer
	if err := WriteText(&b, res); err != nil {
		t.Fatal(err)
	}
	want := `sockleak run: 1 socket sat in CLOSE_WAIT for 1s or longer (exit status 0, 2.3s, 3 samples of up to 1 process)

PID   PROCESS  STATE       PEER            SOCKETS  HELD
8372  leaky    CLOSE_WAIT  127.0.0.1:7000  1        longest at least 2s, closed

PROCESSES
8372  leaky  /tmp/leaky -addr 127.0.0.1:7000 -n 2
peak: ESTABLISHED 1 · CLOSE_WAIT 2
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("Text (-want +got):\n%s", diff)
	}

	b.Reset()
	res.Leaks = nil
	if err := WriteText(&b, res); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "sockleak run: no socket sat in CLOSE_WAIT for 1s or longer (exit status 0,") {
		t.Errorf("clean Text = %q", b.String())
	}
}

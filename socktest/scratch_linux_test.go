package socktest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sockleak/sockleak/internal/livetest"
)

// scratchEvent is one line of go test -json (cmd/test2json).
type scratchEvent struct {
	Action, Package, Test, Output string
}

// scratchRun is what go test said about each test of the scratch module,
// by "package/Test" ("package" alone for the package's own lines).
type scratchRun struct {
	action, output map[string]string
}

// runScratch copies testdata/scratch into a new module that requires this
// one through a replace directive, runs go test -json on it, and returns
// what each test did.
func runScratch(t *testing.T) scratchRun {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/scratch")); err != nil {
		t.Fatal(err)
	}
	goMod := "module example.com/scratch\n\ngo 1.26.8\n\nrequire github.com/sockleak/sockleak v0.0.0\n\n" +
		"replace github.com/sockleak/sockleak => " + root + "\n"
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "go", "test", "-json", "-count=1", "./...")
	cmd.Dir = dir
	// Everything comes from the module cache: this module's go.sum lists
	// it. -mod=mod lets go add the indirect requirements to go.mod.
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOWORK=off", "GOPROXY=off", "GOTOOLCHAIN=local")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	t.Logf("go test in the scratch module: %v", err) // it fails: some tests leak
	run := scratchRun{action: map[string]string{}, output: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var e scratchEvent
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		key := strings.TrimPrefix(e.Package, "example.com/scratch/")
		if e.Test != "" {
			key += "/" + e.Test
		}
		switch e.Action {
		case "output":
			run.output[key] += e.Output
		case "pass", "fail", "skip":
			run.action[key] = e.Action
		}
	}
	if len(run.action) == 0 {
		t.Fatalf("go test in the scratch module ran nothing: %v\n%s\n%s", err, stderr.Bytes(), out)
	}
	return run
}

// logged returns the addresses a scratch test logged as "NAME addr".
func logged(t *testing.T, output, name string) string {
	t.Helper()
	m := regexp.MustCompile(name + ` (\S+)`).FindStringSubmatch(output)
	if m == nil {
		t.Fatalf("no %s in the output:\n%s", name, output)
	}
	return m[1]
}

// TestScratchModule is the acceptance, in a module that requires
// this one: a test that leaves a connection in CLOSE_WAIT fails, naming
// CLOSE_WAIT, the peer and the line that opened it; the same test with
// Close passes; VerifyTestMain fails a package whose test leaked and
// passes one whose test did not; a leaked listener is reported relative
// to the baseline; the ignore options allow what they name, and only that.
func TestScratchModule(t *testing.T) {
	livetest.Skip(t)
	run := runScratch(t)
	want := map[string]string{
		"leaky/TestLeak": "fail", "leaky/TestClose": "pass", "leaky/TestListenerLeak": "fail",
		"leaky/TestIgnorePorts": "pass", "leaky/TestIgnorePeersAndListeners": "pass", "leaky/TestIgnoreStates": "pass",
		"leaky/TestIgnoreOnlyOthers": "fail", "leaky": "fail",
		"mainleak/TestLeaksAndPasses": "pass", "mainleak": "fail",
		"mainclean/TestCloses": "pass", "mainclean": "pass",
	}
	for key, action := range want {
		if run.action[key] != action {
			t.Errorf("%s: %q, want %q; its output:\n%s", key, run.action[key], action, run.output[key])
		}
	}
	contains := func(key string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(run.output[key], w) {
				t.Errorf("%s's output lacks %q:\n%s", key, w, run.output[key])
			}
		}
	}
	out := run.output["leaky/TestLeak"]
	local, peer := logged(t, out, "LOCAL"), logged(t, out, "PEER")
	contains("leaky/TestLeak", "socktest: 1 leaked socket, still there after ",
		"CLOSE_WAIT "+local+" → "+peer+", in CLOSE_WAIT for at least ",
		"opened at example.com/scratch/loopback.Connect (", "loopback.go:", "example.com/scratch/loopback.ClosedByPeer (",
		"example.com/scratch/leaky.closedByPeer (", "leak_test.go:",
		"example.com/scratch/leaky.TestLeak (")
	out = run.output["leaky/TestListenerLeak"]
	pre, leaked := logged(t, out, "PRE"), logged(t, out, "LEAKED")
	contains("leaky/TestListenerLeak", "socktest: 1 leaked socket", "LISTEN "+leaked+", fd ", "opened since the baseline and still open")
	if strings.Contains(out, "LISTEN "+pre) {
		t.Errorf("the listener open before the baseline is reported:\n%s", out)
	}
	out = run.output["leaky/TestIgnoreOnlyOthers"]
	contains("leaky/TestIgnoreOnlyOthers", "CLOSE_WAIT "+logged(t, out, "LOCAL")+" → "+logged(t, out, "PEER"))
	out = run.output["mainleak/TestLeaksAndPasses"]
	contains("mainleak", "CLOSE_WAIT "+logged(t, out, "LOCAL")+" → "+logged(t, out, "PEER"),
		"FAIL: socktest: leaks after the package's tests")
	t.Logf("TestLeak's output in the scratch module:\n%s", run.output["leaky/TestLeak"])
}

//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sockleak/sockleak/internal/livetest"
	"github.com/sockleak/sockleak/internal/metrics"
	"github.com/sockleak/sockleak/watch"
)

// cgroup2Mount is where this machine mounts cgroup2.
const cgroup2Mount = "/sys/fs/cgroup/unified"

// serviceCgroup makes a cgroup named like a systemd service under
// cgroup2 and returns its name and an open descriptor of it (for
// SysProcAttr.CgroupFD); cleanup removes it once its processes are gone.
func serviceCgroup(t *testing.T) (unit string, fd int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("making a cgroup needs root")
	}
	if _, err := os.Stat(filepath.Join(cgroup2Mount, "cgroup.procs")); err != nil {
		t.Skipf("no cgroup2 at %s: %v", cgroup2Mount, err)
	}
	unit = fmt.Sprintf("crashy-%d.service", os.Getpid())
	slice := filepath.Join(cgroup2Mount, fmt.Sprintf("sockleak-test-%d.slice", os.Getpid()))
	dir := filepath.Join(slice, unit)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Skipf("cannot make a cgroup under %s: %v", cgroup2Mount, err)
	}
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Close()
		// The last process may take a moment to leave the cgroup.
		deadline := time.Now().Add(5 * time.Second)
		for os.Remove(dir) != nil && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if err := os.Remove(slice); err != nil {
			t.Errorf("remove the test's cgroups: %v", err)
		}
	})
	return unit, int(f.Fd())
}

// supervise runs testdata/leaky in the cgroup fd as systemd's
// Restart=always would: it leaks until its dial fails at its fd limit
// (48) and dies, and is started again 200 ms later, until ctx ends. It
// returns the pids started, once every process it started has exited.
func supervise(ctx context.Context, t *testing.T, fd int, peer string) func() []int {
	t.Helper()
	bin := buildLeaky(t)
	var (
		mu   sync.Mutex
		pids []int
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			cmd := exec.Command(bin, "-addr", peer, "-n", "100000", "-timeout", "40ms", "-fd-limit", "48")
			cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
			stdin, _ := cmd.StdinPipe() // held open: leaky exits of its leak, not of EOF
			if err := cmd.Start(); err != nil {
				t.Errorf("start leaky in the cgroup: %v", err)
				return
			}
			mu.Lock()
			pids = append(pids, cmd.Process.Pid)
			mu.Unlock()
			stop := context.AfterFunc(ctx, func() { _ = cmd.Process.Kill() })
			_ = cmd.Wait() // status 1, "too many open files": the crash
			stop()
			stdin.Close()
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return func() []int {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(pids)
	}
}

// TestWatchCrashLoop is the seed's incident seen from above: a service
// that leaks to its fd limit, dies and is restarted every few seconds.
// watch --listen keeps one set of series for it, with no pid label, across
// the restarts; its JSON lines give its leak rate across pids; and the
// crash_loop alert fires naming the unit and the deaths at the limit.
func TestWatchCrashLoop(t *testing.T) {
	livetest.Skip(t)
	unit, fd := serviceCgroup(t)
	peer := slowPeer(t, 100*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pidsStarted := supervise(ctx, t, fd, peer)

	addrc := make(chan string, 1)
	c := newWatchCmd(func(ctx context.Context, o *WatchOptions) error {
		o.listening = func(a net.Addr) { addrc <- a.String() }
		return runWatch(ctx, o)
	})
	pr, pw := io.Pipe()
	c.SetArgs([]string{"--workload", unit, "--interval", "100ms", "--listen", "127.0.0.1:0", "--crash-loop", "3", "-o", "json"})
	c.SetOut(pw)
	c.SetErr(io.Discard)
	watchDone := make(chan error, 1)
	go func() {
		watchDone <- c.ExecuteContext(ctx)
		pw.Close()
	}()
	addr := <-addrc

	// Scrape while the service dies and comes back: every label set of
	// its workload series.
	labelSets := map[string]bool{}
	scrapeDone := make(chan struct{})
	go func() {
		defer close(scrapeDone)
		for ctx.Err() == nil {
			if mfs, err := scrapeQuiet(addr); err == nil {
				for _, name := range []string{metrics.WorkloadProcesses.Name, metrics.WorkloadOpenFDs.Name} {
					for _, m := range mfs[name].GetMetric() {
						var ls []string
						for _, lp := range m.GetLabel() {
							ls = append(ls, lp.GetName()+"="+lp.GetValue())
						}
						labelSets[name+"{"+strings.Join(ls, ",")+"}"] = true
					}
				}
			}
			time.Sleep(150 * time.Millisecond)
		}
	}()

	fired, rate, shown := readCrashLoop(t, pr, unit, cancel)
	cancel()
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	<-scrapeDone
	if err := <-watchDone; err != nil && ctx.Err() == nil {
		t.Errorf("watch: %v", err)
	}
	pids := pidsStarted()
	if fired == nil {
		t.Fatalf("no crash_loop alert for %s in 60 s; %d processes started: %v", unit, len(pids), pids)
	}
	checkCrashLoopAlert(t, fired, unit, pids)
	t.Logf("%s %s: %s", fired.Time, fired.Rule, fired.Message)
	t.Logf("%s: CLOSE_WAIT growth %.0f/min across %d pids; the samples show %.0f/min", unit, rate, len(pids), shown)
	if rate < shown/2 {
		t.Errorf("%s: CLOSE_WAIT growth %.0f/min across its restarts, want about what its pids leaked (%.0f/min)", unit, rate, shown)
	}
	for ls := range labelSets {
		if !strings.Contains(ls, "workload="+unit) || strings.Contains(ls, "pid=") {
			t.Errorf("series %s: want one set, the unit's, with no pid label", ls)
		}
	}
	if len(labelSets) != 2 {
		t.Errorf("series across %d restarts: %v, want one per family", len(pids)-1, slices.Sorted(func(yield func(string) bool) {
			for ls := range labelSets {
				if !yield(ls) {
					return
				}
			}
		}))
	}
}

// readCrashLoop reads watch's JSON lines until the crash_loop alert for
// unit fires (then it cancels), and returns it with the unit's CLOSE_WAIT
// growth at the sample before and the growth the samples show: the most
// CLOSE_WAIT sockets each pid was seen with, summed, over the time since
// the first sample. The first carries the sockets of the pids that died
// over their restarts, so the two agree; without, the growth of a crash
// loop would read as a saw's, about 0.
func readCrashLoop(t *testing.T, r io.Reader, unit string, cancel func()) (fired *watch.AlertLine, rate, shown float64) {
	t.Helper()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<24)
	peak := map[int]int{}
	var first time.Time
	for sc.Scan() {
		var head struct{ Type string }
		if err := json.Unmarshal(sc.Bytes(), &head); err != nil {
			t.Fatalf("a line that is not JSON: %q: %v", sc.Text(), err)
		}
		switch head.Type {
		case "sample":
			var s watch.SampleLine
			if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
				t.Fatal(err)
			}
			at, _ := time.Parse(time.RFC3339Nano, s.Time)
			if first.IsZero() {
				first = at
			}
			total := 0
			for _, p := range s.Processes {
				peak[p.PID] = max(peak[p.PID], p.States["CLOSE_WAIT"])
			}
			for _, n := range peak {
				total += n
			}
			shown = float64(total) / at.Sub(first).Minutes()
			for _, w := range s.Workloads {
				if w.Name == unit && w.CloseWaitRatePerMinute != nil {
					rate = *w.CloseWaitRatePerMinute
				}
			}
		case "alert":
			var a watch.AlertLine
			if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
				t.Fatal(err)
			}
			if a.Rule == watch.RuleCrashLoop && a.Status == "firing" && fired == nil {
				fired = &a
				cancel()
				return fired, rate, shown
			}
		}
	}
	return fired, rate, shown
}

func checkCrashLoopAlert(t *testing.T, a *watch.AlertLine, unit string, pids []int) {
	t.Helper()
	if a.Workload == nil || a.Workload.Name != unit || a.Workload.Unit != unit {
		t.Errorf("crash_loop alert's workload %+v, want %s", a.Workload, unit)
	}
	if len(a.FDLimitExits) < 3 {
		t.Fatalf("crash_loop alert with %d deaths at the limit, want 3 or more: %+v", len(a.FDLimitExits), a)
	}
	seen := map[int]bool{}
	for _, e := range a.FDLimitExits {
		if !slices.Contains(pids, e.PID) || seen[e.PID] || e.FDSoftLimit != 48 || e.FDsOpen < 39 {
			t.Errorf("death %+v: want a distinct pid the test started (%v), last seen at 80%%+ of its limit 48", e, pids)
		}
		seen[e.PID] = true
	}
	if !slices.Contains(pids, a.PID) || seen[a.PID] {
		t.Errorf("the alert names pid %d, want the process running now (not one that died)", a.PID)
	}
	if want := unit + " (pid "; !strings.HasPrefix(a.Message, want) || !strings.Contains(a.Message, "each time at") {
		t.Errorf("message %q, want it led by %q and saying at what share of the limit each process died", a.Message, want)
	}
}

// scrapeQuiet is scrape for a goroutine other than the test's: it
// returns the error instead of failing the test.
func scrapeQuiet(addr string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

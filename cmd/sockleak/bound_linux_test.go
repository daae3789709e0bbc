//go:build linux

package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sockleak/sockleak/internal/livetest"
	"github.com/sockleak/sockleak/internal/metrics"
	"github.com/sockleak/sockleak/report"
	"github.com/sockleak/sockleak/watch"
)

// hostOf200 starts 200 processes, each named apart (w000 … w199: sleep
// run through a symlink of that name, so each is a workload of its own)
// and each holding one ESTABLISHED loopback connection, and returns their
// pids. Cleanup ends them.
func hostOf200(t *testing.T) []string {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep to run:", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	dir := t.TempDir()
	var pids []string
	for i := range 200 {
		name := filepath.Join(dir, fmt.Sprintf("w%03d", i))
		if err := os.Symlink(sleep, name); err != nil {
			t.Fatal(err)
		}
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		server, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { server.Close() })
		f, err := conn.(*net.TCPConn).File()
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(name, "300")
		cmd.ExtraFiles = []*os.File{f} // the child holds the connection, alone
		err = cmd.Start()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		pids = append(pids, strconv.Itoa(cmd.Process.Pid))
	}
	return pids
}

// countSeries counts the sockleak series of metric families, and returns
// the value of sockleak_workloads_rolled_up.
func countSeries(mfs map[string]*dto.MetricFamily) (n int, rolledUp float64) {
	for name, mf := range mfs {
		if !strings.HasPrefix(name, "sockleak_") || name == "sockleak_build_info" {
			continue
		}
		n += len(mf.GetMetric())
		if name == metrics.WorkloadsRolledUp.Name {
			rolledUp = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return n, rolledUp
}

// TestSeriesCapLive: 200 real processes, each a workload holding a
// socket, give check --textfile and watch's /metrics the documented
// number of series and no more (report.SeriesCap, watch.MaxSeries, for
// the default --max-workloads), the 150 beyond the cap rolled up.
func TestSeriesCapLive(t *testing.T) {
	livetest.Skip(t)
	pids := strings.Join(hostOf200(t), ",")

	textfile := filepath.Join(t.TempDir(), "sockleak.prom")
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"check", "-q", "--pid", pids, "--textfile", textfile}, &stdout, &stderr); code != 0 {
		t.Fatalf("check exited %d: %s", code, stderr.String())
	}
	exposition, err := os.ReadFile(textfile)
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(bytes.NewReader(exposition))
	if err != nil {
		t.Fatalf("%s does not parse: %v", textfile, err)
	}
	n, rolled := countSeries(mfs)
	if n > report.SeriesCap(report.DefaultMaxWorkloads) || rolled != 150 {
		t.Errorf("check --textfile: %d series, %v rolled up; want at most %d (report.SeriesCap), 150 rolled up",
			n, rolled, report.SeriesCap(report.DefaultMaxWorkloads))
	}
	t.Logf("check --textfile: %d series for 200 workloads (cap %d)", n, report.SeriesCap(report.DefaultMaxWorkloads))

	addr := startWatchExporter(t, "--pid", pids, "--listen", "127.0.0.1:0", "--interval", "100ms", "-o", "text")
	n, rolled = countSeries(scrape(t, addr))
	if n > watch.MaxSeries(watch.DefaultMaxWorkloads) || rolled != 150 {
		t.Errorf("watch /metrics: %d series, %v rolled up; want at most %d (watch.MaxSeries), 150 rolled up",
			n, rolled, watch.MaxSeries(watch.DefaultMaxWorkloads))
	}
	t.Logf("watch /metrics: %d series for 200 workloads (cap %d)", n, watch.MaxSeries(watch.DefaultMaxWorkloads))
}

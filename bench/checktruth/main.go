// Command checktruth compares the sockets in `sockleak inspect -o json`
// with loadgen's ground truth: counts per state and per pid, over the
// sockets that are loadgen's (one end on a loadgen listening address).
// Static states must match exactly; TIME_WAIT may be at most the number
// created (they expire after 60 s). It prints a table and PASS or FAIL, and
// exits 1 on FAIL.
//
//	checktruth TRUTH.json SOCKLEAK.json
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"

	"github.com/sockleak/sockleak/bench/internal/truth"
)

// inspectDoc is the part of sockleak's JSON schema (README.md) checked here.
type inspectDoc struct {
	SchemaVersion int `json:"schema_version"`
	Sockets       []struct {
		State  string `json:"state"`
		Local  string `json:"local"`
		Remote string `json:"remote"`
		Pids   []int  `json:"pids"`
	} `json:"sockets"`
	Processes []struct {
		Pid    int            `json:"pid"`
		States map[string]int `json:"states"`
	} `json:"processes"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: checktruth TRUTH.json SOCKLEAK.json")
		os.Exit(2)
	}
	var t truth.Truth
	var doc inspectDoc
	for i, v := range []any{&t, &doc} {
		b, err := os.ReadFile(os.Args[1+i])
		if err == nil {
			err = json.Unmarshal(b, v)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "checktruth: %s: %v\n", os.Args[1+i], err)
			os.Exit(2)
		}
	}
	if !check(os.Stdout, &t, &doc) {
		fmt.Println("FAIL")
		os.Exit(1)
	}
	fmt.Println("PASS")
}

// check prints the comparison of doc with the truth to w and reports
// whether they agree.
func check(w io.Writer, t *truth.Truth, doc *inspectDoc) bool {
	ok := true
	bad := func(format string, a ...any) {
		ok = false
		fmt.Fprintf(w, "  mismatch: "+format+"\n", a...)
	}
	if doc.SchemaVersion != 1 {
		bad("schema_version %d, want 1", doc.SchemaVersion)
	}
	states, byPid := countOurs(t, doc, bad)
	if !checkStates(w, t, states) {
		ok = false
	}
	if checkPids(t, doc, byPid, bad) {
		fmt.Fprintf(w, "  per pid: all %d workers match, in sockets[] and processes[]\n", len(t.Pids))
	}
	return ok
}

// countOurs counts loadgen's sockets in doc by state, and by pid and state.
func countOurs(t *truth.Truth, doc *inspectDoc, bad func(string, ...any)) (map[string]int, map[int]map[string]int) {
	states := map[string]int{}
	byPid := map[int]map[string]int{}
	for _, s := range doc.Sockets {
		local, err := netip.ParseAddrPort(s.Local)
		if err != nil {
			bad("unparsable local address %q", s.Local)
			continue
		}
		remote, _ := netip.ParseAddrPort(s.Remote) // a listener's may be a wildcard
		if !t.Ours(local, remote) {
			continue
		}
		states[s.State]++
		for _, p := range s.Pids {
			if byPid[p] == nil {
				byPid[p] = map[string]int{}
			}
			byPid[p][s.State]++
		}
	}
	return states, byPid
}

// checkStates prints the table of counts by state, truth against
// sockleak, and reports whether they agree.
func checkStates(w io.Writer, t *truth.Truth, states map[string]int) bool {
	ok := true
	fmt.Fprintf(w, "loadgen's sockets (one end on %s, ports %v):\n", t.ListenAddr, t.ListenPorts)
	fmt.Fprintf(w, "  %-12s %8s %8s  %s\n", "STATE", "TRUTH", "SOCKLEAK", "")
	for _, st := range truth.StateNames(t.States, states) {
		want, got := t.States[st], states[st]
		verdict := "ok"
		switch {
		case st == "TIME_WAIT" && !slices.Contains(t.Static, st):
			if got > want {
				verdict = "more than created"
				ok = false
			} else if got < want {
				verdict = fmt.Sprintf("ok (at most %d; %d at ready; they expire after %d s)", want, t.TimeWait.AtReady, t.TimeWait.ExpiresAfterS)
				if t.TimeWait.Renewed {
					verdict = fmt.Sprintf("ok (at most %d; %d at ready; renewed as they expire)", want, t.TimeWait.AtReady)
				}
			}
		case want != got:
			verdict = "MISMATCH"
			ok = false
		}
		fmt.Fprintf(w, "  %-12s %8d %8d  %s\n", st, want, got, verdict)
	}
	return ok
}

// checkPids compares each worker's states with its sockets in sockets[]
// (byPid) and with its processes[] entry, calling bad for each difference,
// and reports whether all agree and no other pid holds loadgen's sockets.
func checkPids(t *truth.Truth, doc *inspectDoc, byPid map[int]map[string]int, bad func(string, ...any)) bool {
	procStates := map[int]map[string]int{}
	for _, p := range doc.Processes {
		procStates[p.Pid] = p.States
	}
	pidsOK := true
	for _, p := range t.Pids {
		for _, st := range truth.StateNames(p.States, byPid[p.Pid]) {
			if p.States[st] != byPid[p.Pid][st] {
				bad("pid %d %s: truth %d, sockleak sockets %d", p.Pid, st, p.States[st], byPid[p.Pid][st])
				pidsOK = false
			}
		}
		// Workers hold only loadgen's sockets: the processes array must
		// agree too.
		for _, st := range truth.StateNames(p.States, procStates[p.Pid]) {
			if p.States[st] != procStates[p.Pid][st] {
				bad("pid %d %s: truth %d, sockleak processes[].states %d", p.Pid, st, p.States[st], procStates[p.Pid][st])
				pidsOK = false
			}
		}
		delete(byPid, p.Pid)
	}
	for pid, m := range byPid {
		bad("pid %d is not a loadgen worker but holds loadgen sockets: %v", pid, m)
		pidsOK = false
	}
	return pidsOK
}

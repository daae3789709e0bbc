//go:build linux

package main

import (
	"bufio"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sockleak/sockleak/bench/internal/truth"
)

// settle waits until /proc/net/tcp shows exactly the truth for loadgen's
// static sockets (handshakes and FINs on loopback take a moment to land),
// for at most timeout, and says what differs if it never does. It returns
// the TIME_WAIT sockets seen: at most the number created, as a few are
// recycled (a later bind(0) may pick a port whose only user is a TIME_WAIT
// socket, and with tcp_tw_reuse on loopback connect takes its place).
func settle(t *truth.Truth, timeout time.Duration) (string, int) {
	deadline := time.Now().Add(timeout)
	for {
		got, err := kernelStates(t)
		if err != nil {
			return "could not read /proc/net/tcp: " + err.Error(), 0
		}
		tw := got["TIME_WAIT"]
		if tw <= t.TimeWait.Created {
			delete(got, "TIME_WAIT")
		}
		want := maps.Clone(t.States)
		delete(want, "TIME_WAIT")
		diff := diffStates(want, got)
		if diff == "" {
			return "ok", tw
		}
		if time.Now().After(deadline) {
			return diff, tw
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func diffStates(want, got map[string]int) string {
	var d []string
	for _, st := range truth.StateNames(want, got) {
		if want[st] != got[st] {
			d = append(d, fmt.Sprintf("%s: want %d, got %d", st, want[st], got[st]))
		}
	}
	return strings.Join(d, "; ")
}

var kernelStateNames = map[string]string{
	"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1",
	"05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
	"09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING", "0C": "NEW_SYN_RECV",
}

// kernelStates counts loadgen's sockets in /proc/net/tcp by state. It is
// its own small reader, not sockleak's inspect: the truth is what sockleak
// is checked against, so it must not share sockleak's bugs.
func kernelStates(t *truth.Truth) (map[string]int, error) {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	got := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 {
			continue
		}
		local, err1 := parseHexAddr(fields[1])
		remote, err2 := parseHexAddr(fields[2])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad line %q", sc.Text())
		}
		if !t.Ours(local, remote) {
			continue
		}
		name, ok := kernelStateNames[fields[3]]
		if !ok {
			name = "state " + fields[3]
		}
		got[name]++
	}
	return got, sc.Err()
}

// parseHexAddr parses an IPv4 "0100007F:1F90" (address in host byte order,
// little-endian here; port big-endian).
func parseHexAddr(s string) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok || len(a) != 8 {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	ip, err := strconv.ParseUint(a, 16, 32)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	b := [4]byte{byte(ip), byte(ip >> 8), byte(ip >> 16), byte(ip >> 24)}
	return netip.AddrPortFrom(netip.AddrFrom4(b), uint16(port)), nil
}

package demo

import (
	"net/netip"
	"testing"

	"github.com/sockleak/sockleak/inspect"
)

func TestPeerFinWait2(t *testing.T) {
	peer := netip.MustParseAddrPort("127.0.0.1:7000")
	c1, c2, other := netip.MustParseAddrPort("127.0.0.1:40001"), netip.MustParseAddrPort("127.0.0.1:40002"),
		netip.MustParseAddrPort("127.0.0.1:40003")
	client := []inspect.Socket{
		{Local: c1, Remote: peer, State: inspect.CloseWait},
		{Local: c2, Remote: peer, State: inspect.CloseWait},
	}
	peerEnds := []inspect.Socket{
		{Local: peer, Remote: c1, State: inspect.FinWait2},              // an orphan
		{Local: peer, Remote: c2, State: inspect.FinWait2, Inode: 4242}, // still owned
		{Local: peer, Remote: other, State: inspect.FinWait2},           // another run's
		{Local: peer, Remote: c1, State: inspect.TimeWait, Inode: 17},   // not FIN_WAIT2
	}
	if all, orphans := peerFinWait2(peerEnds, client); all != 2 || orphans != 1 {
		t.Errorf("peerFinWait2 = %d, %d; want 2 FIN_WAIT2 ends, 1 of them an orphan", all, orphans)
	}
	if all, orphans := peerFinWait2(peerEnds, nil); all != 0 || orphans != 0 {
		t.Errorf("peerFinWait2 of no client sockets = %d, %d; want 0, 0", all, orphans)
	}
}

func TestStateSummary(t *testing.T) {
	for _, tt := range []struct {
		states []inspect.TCPState
		want   string
	}{
		{nil, "no sockets"},
		{[]inspect.TCPState{inspect.CloseWait, inspect.Established, inspect.CloseWait}, "1 ESTABLISHED, 2 CLOSE_WAIT"},
	} {
		var socks []inspect.Socket
		for _, st := range tt.states {
			socks = append(socks, inspect.Socket{State: st})
		}
		if got := stateSummary(socks); got != tt.want {
			t.Errorf("stateSummary(%v) = %q, want %q", tt.states, got, tt.want)
		}
	}
}

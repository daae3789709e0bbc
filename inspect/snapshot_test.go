package inspect

import (
	"net/netip"
	"testing"
)

func TestListenIndexInbound(t *testing.T) {
	snap := &Snapshot{Listeners: []Listener{
		listener(1, "10.0.0.1:80"),  // one address
		listener(1, "0.0.0.0:443"),  // the IPv4 wildcard
		listener(2, "[::]:8080"),    // the IPv6 wildcard, in another namespace
		listener(2, "127.0.0.1:22"), // loopback only
	}}
	ix := snap.ListenIndex()
	for _, tt := range []struct {
		ns            uint64
		local, remote string
		want          bool
	}{
		{1, "10.0.0.1:80", "192.0.2.1:50000", true},
		{1, "10.0.0.2:80", "192.0.2.1:50000", false}, // another address on the port
		{1, "10.0.0.9:443", "192.0.2.1:50000", true},
		{2, "10.0.0.9:443", "192.0.2.1:50000", false}, // the port is listened on in namespace 1 only
		{2, "10.0.0.9:8080", "192.0.2.1:50000", true},
		{2, "[2001:db8::1]:8080", "[2001:db8::2]:50000", true},
		{2, "10.0.0.9:22", "192.0.2.1:50000", false},
		{1, "10.0.0.1:40000", "192.0.2.1:80", false}, // outbound: a port no one listens on
	} {
		s := &Socket{NetNS: tt.ns, Local: netip.MustParseAddrPort(tt.local), Remote: netip.MustParseAddrPort(tt.remote)}
		if got := ix.Inbound(s); got != tt.want {
			t.Errorf("Inbound(%d %s -> %s) = %v, want %v", tt.ns, tt.local, tt.remote, got, tt.want)
		}
	}
	if (ListenIndex{}).Inbound(&Socket{Local: netip.MustParseAddrPort("10.0.0.1:80")}) {
		t.Error("the zero ListenIndex calls a socket inbound")
	}
}

func listener(ns uint64, addr string) Listener {
	return Listener{NetNS: ns, Addr: netip.MustParseAddrPort(addr)}
}

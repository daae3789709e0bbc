package truth

import (
	"net/netip"
	"slices"
	"testing"
)

func TestOurs(t *testing.T) {
	tr := &Truth{ListenAddr: "127.0.0.1", ListenPorts: []int{7000, 7001}}
	tests := []struct {
		local, remote string
		want          bool
	}{
		{"127.0.0.1:7000", "0.0.0.0:0", true},        // a listener
		{"127.2.0.1:40000", "127.0.0.1:7001", true},  // a client end
		{"[::ffff:127.0.0.1]:7000", "[::]:0", true},  // IPv4-mapped
		{"127.0.0.1:7002", "127.2.0.1:40000", false}, // another port
		{"127.0.0.2:7000", "10.0.0.1:7000", false},   // another address
	}
	for _, tt := range tests {
		got := tr.Ours(netip.MustParseAddrPort(tt.local), netip.MustParseAddrPort(tt.remote))
		if got != tt.want {
			t.Errorf("Ours(%s, %s) = %v, want %v", tt.local, tt.remote, got, tt.want)
		}
	}
}

func TestStateNames(t *testing.T) {
	got := StateNames(map[string]int{"LISTEN": 1, "CLOSE_WAIT": 2}, map[string]int{"LISTEN": 1, "TIME_WAIT": 3})
	if want := []string{"CLOSE_WAIT", "LISTEN", "TIME_WAIT"}; !slices.Equal(got, want) {
		t.Errorf("StateNames = %v, want %v", got, want)
	}
}

package inspect

import (
	"testing"

	"github.com/shirou/gopsutil/v4/process"
)

// TestNativeConversions: gopsutil's process statuses become proc(5)'s
// letters where the report names them, RLIM_INFINITY is Unlimited, and
// the states of every system's connection tables parse.
func TestNativeConversions(t *testing.T) {
	for in, want := range map[string]byte{process.Running: 'R', process.Sleep: 'S', process.Stop: 'T',
		process.Zombie: 'Z', process.Wait: 'D', process.Lock: 'D', process.Idle: 'I', "": 0, "exotic": 0} {
		if got := stateLetter(in); got != want {
			t.Errorf("stateLetter(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[uint64]int64{0: 0, 1024: 1024, 1<<63 - 1: Unlimited, ^uint64(0): Unlimited} {
		if got := nativeLimit(in); got != want {
			t.Errorf("nativeLimit(%d) = %d, want %d", in, got, want)
		}
	}
	for in, want := range map[string]TCPState{
		"ESTABLISHED": Established, "SYN_SENT": SynSent, "SYN_RECV": SynRecv, "SYN_RECEIVED": SynRecv,
		"FIN_WAIT1": FinWait1, "FIN_WAIT_1": FinWait1, "FIN_WAIT_2": FinWait2, "TIME_WAIT": TimeWait,
		"CLOSE": Close, "CLOSED": Close, "DELETE": Close, "CLOSE_WAIT": CloseWait, "LAST_ACK": LastAck,
		"LISTEN": Listen, "CLOSING": Closing,
	} {
		if got, ok := gopsutilState(in); !ok || got != want {
			t.Errorf("gopsutilState(%q) = %s, %v; want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "NONE", "BOUND", "IDLE"} {
		if got, ok := gopsutilState(in); ok {
			t.Errorf("gopsutilState(%q) = %s, want none", in, got)
		}
	}
}

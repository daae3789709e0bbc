package inspect

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTCPStateString(t *testing.T) {
	// The numbers of include/net/tcp_states.h, as /proc/net/tcp prints them.
	tests := []struct {
		state TCPState
		want  string
		label string
	}{
		{0x01, "ESTABLISHED", "established"},
		{0x02, "SYN_SENT", "syn_sent"},
		{0x03, "SYN_RECV", "syn_recv"},
		{0x04, "FIN_WAIT1", "fin_wait1"},
		{0x05, "FIN_WAIT2", "fin_wait2"},
		{0x06, "TIME_WAIT", "time_wait"},
		{0x07, "CLOSE", "close"},
		{0x08, "CLOSE_WAIT", "close_wait"},
		{0x09, "LAST_ACK", "last_ack"},
		{0x0A, "LISTEN", "listen"},
		{0x0B, "CLOSING", "closing"},
		{0x0C, "NEW_SYN_RECV", "new_syn_recv"},
		{0x00, "UNKNOWN(0x00)", "unknown(0x00)"},
		{0x0D, "UNKNOWN(0x0d)", "unknown(0x0d)"},
		{0xFF, "UNKNOWN(0xff)", "unknown(0xff)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.state.String(); got != tt.want {
				t.Errorf("TCPState(%#x).String() = %q, want %q", uint8(tt.state), got, tt.want)
			}
			if got := tt.state.Label(); got != tt.label {
				t.Errorf("TCPState(%#x).Label() = %q, want %q", uint8(tt.state), got, tt.label)
			}
			valid := !strings.HasPrefix(tt.want, "UNKNOWN")
			if got := tt.state.Valid(); got != valid {
				t.Errorf("TCPState(%#x).Valid() = %v, want %v", uint8(tt.state), got, valid)
			}
		})
	}
}

func TestStatesInKernelOrder(t *testing.T) {
	if len(States) != 12 {
		t.Fatalf("len(States) = %d, want 12", len(States))
	}
	for i, s := range States {
		if int(s) != i+1 {
			t.Errorf("States[%d] = %v (%d), want %d", i, s, s, i+1)
		}
	}
}

func TestParseState(t *testing.T) {
	tests := []struct {
		in      string
		want    TCPState
		wantErr string
	}{
		// The kernel's names.
		{in: "ESTABLISHED", want: Established},
		{in: "SYN_SENT", want: SynSent},
		{in: "SYN_RECV", want: SynRecv},
		{in: "FIN_WAIT1", want: FinWait1},
		{in: "FIN_WAIT2", want: FinWait2},
		{in: "TIME_WAIT", want: TimeWait},
		{in: "CLOSE", want: Close},
		{in: "CLOSE_WAIT", want: CloseWait},
		{in: "LAST_ACK", want: LastAck},
		{in: "LISTEN", want: Listen},
		{in: "CLOSING", want: Closing},
		{in: "NEW_SYN_RECV", want: NewSynRecv},
		// ss's spellings.
		{in: "close-wait", want: CloseWait},
		{in: "FIN-WAIT-2", want: FinWait2},
		{in: "fin-wait-1", want: FinWait1},
		{in: "estab", want: Established},
		{in: "syn-recv", want: SynRecv},
		{in: "syn-sent", want: SynSent},
		{in: "last-ack", want: LastAck},
		{in: "time-wait", want: TimeWait},
		{in: "closed", want: Close},
		{in: "listening", want: Listen},
		{in: "synreceived", want: SynRecv},
		// Other ways people type them.
		{in: "fin_wait_2", want: FinWait2},
		{in: "finwait2", want: FinWait2},
		{in: "Time Wait", want: TimeWait},
		{in: "timewait", want: TimeWait},
		{in: "closewait", want: CloseWait},
		{in: "  Close_Wait  ", want: CloseWait},
		{in: "new-syn-recv", want: NewSynRecv},
		// Not states.
		{in: "bogus", wantErr: `unknown TCP state "bogus" (want one of ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK, LISTEN, CLOSING, NEW_SYN_RECV)`},
		{in: "", wantErr: `unknown TCP state ""`},
		{in: "fin_wait_3", wantErr: `unknown TCP state "fin_wait_3"`},
		{in: "08", wantErr: `unknown TCP state "08"`},
		{in: "UNKNOWN(0x0d)", wantErr: `unknown TCP state "UNKNOWN(0x0d)"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseState(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseState(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseState(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestParseStateRoundTrip: every state's String and Label parse back.
func TestParseStateRoundTrip(t *testing.T) {
	for _, s := range States {
		for _, in := range []string{s.String(), s.Label()} {
			if got, err := ParseState(in); err != nil || got != s {
				t.Errorf("ParseState(%q) = %v, %v; want %v", in, got, err, s)
			}
		}
	}
}

func TestTCPStateJSON(t *testing.T) {
	in := map[TCPState]int{CloseWait: 1987, FinWait2: 2}
	b, err := json.Marshal(struct {
		State  TCPState
		Counts map[TCPState]int
	}{CloseWait, in})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"State":"CLOSE_WAIT","Counts":{"CLOSE_WAIT":1987,"FIN_WAIT2":2}}`
	if string(b) != want {
		t.Errorf("json.Marshal = %s, want %s", b, want)
	}

	var out struct {
		State  TCPState
		Counts map[TCPState]int
	}
	if err := json.Unmarshal([]byte(`{"State":"fin-wait-2","Counts":{"close-wait":3,"ESTABLISHED":1}}`), &out); err != nil {
		t.Fatal(err)
	}
	if out.State != FinWait2 {
		t.Errorf("unmarshalled State = %v, want FIN_WAIT2", out.State)
	}
	if diff := cmp.Diff(map[TCPState]int{CloseWait: 3, Established: 1}, out.Counts); diff != "" {
		t.Errorf("unmarshalled Counts mismatch (-want +got):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(`{"State":"nope"}`), &out); err == nil || !strings.Contains(err.Error(), `unknown TCP state "nope"`) {
		t.Errorf("json.Unmarshal(nope) error = %v, want unknown TCP state", err)
	}
}

// FuzzParseState: --state, --leak-state and the thresholds take a state
// as people type it. Whatever it is, ParseState never panics, and a state
// it accepts is a valid one that its own names parse back to.
func FuzzParseState(f *testing.F) {
	for _, s := range []string{"close-wait", "FIN-WAIT-2", "fin_wait_2", "finwait2", "estab", "listening", "", "-", "close wait", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseState(s)
		if err != nil {
			return
		}
		if !st.Valid() {
			t.Fatalf("ParseState(%q) = %d, not a valid state", s, st)
		}
		for _, name := range []string{st.String(), st.Label()} {
			if again, err := ParseState(name); err != nil || again != st {
				t.Errorf("ParseState(%q) = %v; its name %q parses to %v, %v", s, st, name, again, err)
			}
		}
	})
}

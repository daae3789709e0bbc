package inspect

import (
	"fmt"
	"strings"
)

// TCPState is a TCP socket state, numbered as in the kernel's
// include/net/tcp_states.h (and as printed in hex by /proc/net/tcp).
type TCPState uint8

// The kernel's TCP states, in kernel order.
const (
	Established TCPState = iota + 1
	SynSent
	SynRecv
	FinWait1
	FinWait2
	TimeWait
	Close
	CloseWait
	LastAck
	Listen
	Closing
	NewSynRecv
)

// States lists every known state in kernel order.
var States = []TCPState{
	Established, SynSent, SynRecv, FinWait1, FinWait2, TimeWait,
	Close, CloseWait, LastAck, Listen, Closing, NewSynRecv,
}

var stateNames = [...]string{
	Established: "ESTABLISHED",
	SynSent:     "SYN_SENT",
	SynRecv:     "SYN_RECV",
	FinWait1:    "FIN_WAIT1",
	FinWait2:    "FIN_WAIT2",
	TimeWait:    "TIME_WAIT",
	Close:       "CLOSE",
	CloseWait:   "CLOSE_WAIT",
	LastAck:     "LAST_ACK",
	Listen:      "LISTEN",
	Closing:     "CLOSING",
	NewSynRecv:  "NEW_SYN_RECV",
}

// Valid reports whether s is one of the kernel's states.
func (s TCPState) Valid() bool { return s >= Established && s <= NewSynRecv }

// String returns the kernel's name of the state, e.g. "CLOSE_WAIT", or
// "UNKNOWN(0x0d)" for a number the kernel does not define.
func (s TCPState) String() string {
	if !s.Valid() {
		return fmt.Sprintf("UNKNOWN(0x%02x)", uint8(s))
	}
	return stateNames[s]
}

// Label returns the state as a lower-case metric label, e.g. "close_wait".
func (s TCPState) Label() string { return strings.ToLower(s.String()) }

// MarshalText makes states print by name in JSON, also as map keys.
func (s TCPState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText accepts any spelling ParseState accepts.
func (s *TCPState) UnmarshalText(b []byte) error {
	st, err := ParseState(string(b))
	if err != nil {
		return err
	}
	*s = st
	return nil
}

// stateKeys maps a state name with case, '_', '-' and spaces removed to the
// state. Besides the kernel's names it holds the spellings of ss
// ("fin-wait-2", "syn-recv", "close-wait"), netstat ("FIN_WAIT2", "CLOSE") and
// prose ("closewait", "timewait").
var stateKeys = func() map[string]TCPState {
	m := make(map[string]TCPState)
	for _, s := range States {
		m[stateKey(s.String())] = s
	}
	// ss spells FIN_WAIT1/2 as fin-wait-1/2, which normalise to the same
	// key; its other aliases:
	m["synreceived"] = SynRecv
	m["closed"] = Close
	m["estab"] = Established
	m["listening"] = Listen
	m["timewait"] = TimeWait
	return m
}()

func stateKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch r {
		case '_', '-', ' ':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ParseState parses a state as a user types it: the kernel's name or the
// spellings of ss, netstat and prose, case-insensitively ("close-wait",
// "FIN-WAIT-2", "fin_wait_2", "finwait2", "estab").
func ParseState(s string) (TCPState, error) {
	if st, ok := stateKeys[stateKey(s)]; ok {
		return st, nil
	}
	return 0, fmt.Errorf("unknown TCP state %q (want one of %s)", s, stateList())
}

func stateList() string {
	names := make([]string, len(States))
	for i, s := range States {
		names[i] = s.String()
	}
	return strings.Join(names, ", ")
}

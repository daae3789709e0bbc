package trace

import (
	"time"

	"github.com/sockleak/sockleak/inspect"
)

// Recording is what a trace recorded: the TCP sockets opened while it ran
// that were still open when it stopped.
type Recording struct {
	Started, Ended time.Time
	Sockets        []Socket
	Counters       Counters
	// Capacity is the size of the table of sockets: more open at once
	// are counted in Counters.DroppedFull.
	Capacity int
}

// Socket is one recorded socket.
type Socket struct {
	Inode  uint64 // socket:[Inode]
	TGID   int    // the process that opened it
	Opened time.Time
	// State is its state at the last change seen, entered at Since. Exact
	// is false when no change was seen after it got its descriptor (an
	// accepted connection the peer had already closed): Since is then
	// when it was accepted, and it entered its state before.
	State inspect.TCPState
	Since time.Time
	Exact bool
	// Stack is the user stack that opened it (instruction pointer first)
	// and Caller the word at the user stack pointer (symbolize.Stack).
	// StackErr says why Stack is empty.
	Stack    []uint64
	Caller   uint64
	StackErr string
	// StackKey identifies the stack among those recorded (0: none); Peek
	// leaves Stack empty but sets it.
	StackKey uint64
}

// Counters are the programs' own counts over the recording.
type Counters struct {
	Opened       uint64 `json:"sockets_opened"`     // TCP sockets given a descriptor
	Changes      uint64 `json:"state_changes"`      // state changes of recorded sockets
	Closed       uint64 `json:"sockets_closed"`     // recorded sockets that closed
	DroppedFull  uint64 `json:"dropped_table_full"` // not recorded: the table was full
	DroppedStack uint64 `json:"dropped_stack"`      // recorded without their stack
}

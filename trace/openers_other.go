//go:build !linux

package trace

import (
	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/symbolize"
)

// Openers names the code that opened sockets, on Linux; elsewhere Start
// fails first (no BPF), so one is never used.
type Openers struct{}

// NewOpeners returns an Openers that names nothing.
func NewOpeners(*Recorder, string) *Openers { return &Openers{} }

// Of names nothing.
func (*Openers) Of(map[uint64]Socket, int, inspect.TCPState) *symbolize.Frame { return nil }

// Forget has nothing to drop.
func (*Openers) Forget() {}

// Close has nothing to close.
func (*Openers) Close() error { return nil }

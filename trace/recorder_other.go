//go:build !linux

package trace

import (
	"context"
	"errors"

	"github.com/sockleak/sockleak/inspect"
)

// DefaultMaxSockets is the default size of the table of recorded sockets.
const DefaultMaxSockets = 65536

// Options configures a recording.
type Options struct {
	PID        int
	MaxSockets int
}

// Recorder is a recording under way; only Linux has one.
type Recorder struct{}

// Start fails: sockleak trace needs Linux's BPF.
func Start(Options) (*Recorder, error) {
	return nil, errors.New("sockleak trace needs Linux (BPF)")
}

// Stop is never reached.
func (r *Recorder) Stop() (*Recording, error) { return nil, errors.New("no recording") }

// Peek is never reached.
func (r *Recorder) Peek() (map[uint64]Socket, error) { return nil, errors.New("no recording") }

// Finish is never reached.
func (r *Recorder) Finish(context.Context, inspect.FS, inspect.Options) (*Report, error) {
	return nil, errors.New("no recording")
}

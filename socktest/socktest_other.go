//go:build !linux

package socktest

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/sockleak/sockleak/inspect"
)

// errUnsupported says why nothing is checked here.
var errUnsupported = fmt.Errorf("socktest: check skipped: reading this process's TCP sockets from its descriptors needs Linux, not %s: %w",
	runtime.GOOS, errors.ErrUnsupported)

func readSockets(func(*inspect.Socket) bool) ([]inspect.OwnSocket, error) { return nil, errUnsupported }

func fdInode(uintptr) (uint64, bool) { return 0, false }

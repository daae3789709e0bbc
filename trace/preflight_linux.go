package trace

import (
	"errors"
	"os"
)

// preflight says what this host lacks to run a trace. TODO: bpfkit.Check.
func preflight() error {
	if os.Geteuid() != 0 {
		return errors.New("not root")
	}
	return nil
}

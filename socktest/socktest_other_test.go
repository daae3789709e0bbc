//go:build !linux

package socktest

import (
	"errors"
	"strings"
	"testing"
)

// TestSkippedElsewhere: where sockets cannot be read, Find says why and
// VerifyNone logs it and passes.
func TestSkippedElsewhere(t *testing.T) {
	if err := Find(IgnoreCurrent()); !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "check skipped") {
		t.Errorf("Find: %v, want the check skipped", err)
	}
	var ft fakeT
	VerifyNone(&ft, IgnoreCurrent())
	if len(ft.errors) != 0 || len(ft.logs) != 1 || !strings.Contains(ft.logs[0], "needs Linux") {
		t.Errorf("VerifyNone: errors %q, logs %q; want one log saying why", ft.errors, ft.logs)
	}
}

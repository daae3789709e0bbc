package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestChildArgs: bad arguments fail before the child lowers its limit or
// says it is ready.
func TestChildArgs(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"-client", "careless"}, `-client "careless": want leaky or reference`},
		{[]string{"-n", "many"}, `invalid value "many" for flag -n`},
		{[]string{"-retries", "3"}, "flag provided but not defined: -retries"},
	} {
		var stdout bytes.Buffer
		err := Child(context.Background(), tt.args, strings.NewReader(""), &stdout)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Child(%q) = %v, want %q", tt.args, err, tt.wantErr)
		}
		if stdout.Len() > 0 {
			t.Errorf("Child(%q) wrote %q, want nothing", tt.args, stdout.String())
		}
	}
}

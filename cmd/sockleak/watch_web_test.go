package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestWatchWebConfigFlag(t *testing.T) {
	var got *WatchOptions
	c := newWatchCmd(func(_ context.Context, o *WatchOptions) error { got = o; return nil })
	c.SetArgs([]string{"--listen", "127.0.0.1:9816", "--web.config.file", "/etc/sockleak/web.yml"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.WebConfigFile != "/etc/sockleak/web.yml" {
		t.Errorf("WebConfigFile = %q", got.WebConfigFile)
	}
	missing := filepath.Join(t.TempDir(), "web.yml")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--web.config.file", missing}, "--web.config.file needs --listen"},
		{[]string{"--listen", "127.0.0.1:0", "--count", "1", "--web.config.file", missing}, "--web.config.file: open " + missing},
	} {
		var stdout, stderr bytes.Buffer
		if code := Main(append([]string{"watch"}, tt.args...), &stdout, &stderr); code != exitError || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("watch %v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}

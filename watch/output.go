package watch

import (
	"fmt"
	"io"
)

// ResolveOutput returns the output -o asks for: "" is live on a terminal
// and text elsewhere.
func ResolveOutput(output string, terminal bool) string {
	if output != "" {
		return output
	}
	if terminal {
		return "live"
	}
	return "text"
}

// NewRender returns how a watch shows each status on w in output: "text"
// (TextLines), "json" (JSONLines) or "live" (a Live view, in color unless
// told otherwise, of the size size returns). Call done when the watch
// ends: it gives a live view's screen back, and with keep (the watch
// ended on its own, after --count) leaves its last frame on it.
func NewRender(output string, w io.Writer, color bool, size func() (cols, rows int)) (render func(*Status) error, done func(keep bool) error, err error) {
	switch output {
	case "json":
		return func(st *Status) error { return JSONLines(w, st) }, noop, nil
	case "text":
		return func(st *Status) error { return TextLines(w, st) }, noop, nil
	case "live":
		v := NewLive(w, color, size)
		if err := v.Start(); err != nil {
			return nil, nil, err
		}
		return v.Draw, v.Stop, nil
	}
	return nil, nil, fmt.Errorf("unknown output %q", output)
}

func noop(bool) error { return nil }

package main

import (
	"io"
	"os"

	"golang.org/x/sys/windows"
)

// terminalGroup reports whether sockleak runs in a console: the console
// sends ^C to every process attached to it, the command included, as a
// terminal does to its foreground group, so it is not forwarded again.
func terminalGroup() (foreground, tty bool) {
	var mode uint32
	console := windows.GetConsoleMode(windows.Handle(os.Stdin.Fd()), &mode) == nil
	return console, console
}

// terminalSize returns the console window's columns and rows, and false
// when w is not a console.
func terminalSize(w io.Writer) (cols, rows int, ok bool) {
	f, isFile := w.(*os.File)
	if !isFile {
		return 0, 0, false
	}
	var info windows.ConsoleScreenBufferInfo
	if err := windows.GetConsoleScreenBufferInfo(windows.Handle(f.Fd()), &info); err != nil {
		return 0, 0, false
	}
	return int(info.Window.Right-info.Window.Left) + 1, int(info.Window.Bottom-info.Window.Top) + 1, true
}

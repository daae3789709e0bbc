//go:build unix

package main

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// terminalGroup reports whether sockleak has a controlling terminal
// (tty), and whether it runs in that terminal's foreground process group,
// where the terminal sends ^C to the whole group (foreground). Only a real
// terminal can say; tests run without one. Its stdin need not be the
// terminal: /dev/tty is the controlling terminal whatever the redirections.
func terminalGroup() (foreground, tty bool) {
	f, err := os.OpenFile("/dev/tty", os.O_RDONLY|unix.O_NOCTTY, 0)
	if err != nil {
		return false, false // no controlling terminal: CI, systemd, setsid
	}
	defer f.Close()
	pgrp, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp(), true
}

// terminalSize returns w's columns and rows, and false when w is not a
// terminal.
func terminalSize(w io.Writer) (cols, rows int, ok bool) {
	f, isFile := w.(*os.File)
	if !isFile {
		return 0, 0, false
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0, 0, false
	}
	return int(ws.Col), int(ws.Row), true
}

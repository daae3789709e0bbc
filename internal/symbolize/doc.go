// Package symbolize turns the user-space addresses of a running process
// into functions and file:line, with the standard library alone: the
// process's mappings from PID/maps (PIE and ASLR), each module's ELF
// symbols, its DWARF line table and inline entries (a static function the
// compiler inlined is named, as addr2line -i does), and a Go binary's
// pclntab, which survives -s -w, with its inline tree (goinline.go): a
// function the Go compiler inlined is a frame of its own there too, as in
// the runtime's tracebacks. Binaries are opened through the
// process's own view of the file system (PID/map_files, else PID/root), so
// a process in a container is read from its image, and each module is
// parsed once per build id.
//
// Everything it reads is the host's: a path, a symbol or a file name may
// hold any bytes, and renderers must escape them.
package symbolize

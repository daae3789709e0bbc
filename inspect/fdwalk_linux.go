package inspect

import (
	"encoding/binary"
	"errors"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fdWalker reads PID/fd directories with getdents64 and readlinkat into
// buffers it reuses, so the walk allocates nothing per descriptor: at 100k
// sockets the readlinks are the dominant cost of a scan.
type fdWalker struct {
	dirents []byte
	link    []byte
}

func newFDWalker() *fdWalker {
	return &fdWalker{dirents: make([]byte, 32<<10), link: make([]byte, 128)}
}

// walk lists dir (a PID/fd directory) into t: it counts the descriptors
// and the socket descriptors (any family), and appends to t.sockets the
// inode of each socket for which keep returns true (keep nil keeps all).
// A descriptor closed during the walk is skipped; a link we may not read is
// a permission error.
func (w *fdWalker) walk(dir string, keep func(uint64) bool, t *fdTable) error {
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(dfd)
	for {
		n, err := unix.Getdents(dfd, w.dirents)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "getdents", Path: dir, Err: err}
		}
		if n <= 0 {
			return nil
		}
		for b := w.dirents[:n]; len(b) >= 19; {
			// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name (NUL-terminated)
			reclen := int(binary.NativeEndian.Uint16(b[16:]))
			if reclen < 19 || reclen > len(b) {
				break
			}
			name := b[19:reclen]
			b = b[reclen:]
			if name[0] == '.' {
				continue // "." and ".."; fd names are digits
			}
			t.open++
			ln, errno := readlinkat(dfd, &name[0], w.link)
			switch {
			case errno == unix.EACCES || errno == unix.EPERM:
				// Some kernels and sandboxes list fds but deny the links.
				return &os.PathError{Op: "readlink", Path: dir, Err: errno}
			case errno != 0:
				continue // closed since the directory was read
			}
			if ino, ok := parseSocketLink(w.link[:ln]); ok {
				t.socketFDs++
				if keep == nil || keep(ino) {
					t.sockets = append(t.sockets, ino)
				}
			}
		}
	}
}

// readlinkat calls readlinkat(2) on a NUL-terminated name inside a
// getdents buffer: unix.Readlinkat would copy the name to a new string and
// then to a new C string, two allocations per descriptor.
func readlinkat(dirfd int, name *byte, buf []byte) (int, unix.Errno) {
	n, _, errno := unix.Syscall6(unix.SYS_READLINKAT, uintptr(dirfd), uintptr(unsafe.Pointer(name)),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
	return int(n), errno
}

// countFDs returns the number of open descriptors in dir, a PID/fd
// directory of a real procfs. Linux 6.2+ reports it as the size of the
// directory, with no listing; older kernels report 0, and then the
// directory is listed.
func (w *fdWalker) countFDs(dir string) (int, error) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return 0, &os.PathError{Op: "stat", Path: dir, Err: err}
	}
	if st.Size > 0 {
		return int(st.Size), nil
	}
	var t fdTable
	err := w.walk(dir, func(uint64) bool { return false }, &t)
	return t.open, err
}

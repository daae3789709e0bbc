package inspect

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fdWalker reads PID/fd directories with readlinkat into buffers it
// reuses, so the walk allocates nothing per descriptor: at 100k sockets the
// readlinks are the dominant cost of a scan.
type fdWalker struct {
	dirents []byte
	link    []byte
	name    []byte // a descriptor number, NUL-terminated, for probing
	// probe is true on a real procfs, where a PID/fd directory's size can
	// be the number of descriptors; in a fixture tree it is a block size.
	probe bool
}

func newFDWalker(procfs bool) *fdWalker {
	return &fdWalker{dirents: make([]byte, 32<<10), link: make([]byte, 128), name: make([]byte, 0, 24), probe: procfs}
}

// maxHoles is how many closed descriptor numbers in a row the probe of a
// walk tries before it lists the rest of the directory instead.
const maxHoles = 64

// walk lists dir (a PID/fd directory) into t: it counts the descriptors
// and the socket descriptors (any family), and appends to t.sockets the
// inode of each socket for which keep returns true (keep nil keeps all).
// A descriptor closed during the walk is skipped; a link we may not read is
// a permission error.
//
// Where the directory's size is the number of open descriptors (a real
// procfs on Linux 6.2+), walk does not list it: it reads the links of
// descriptors 0, 1, 2... until it has found them all. Descriptor tables
// are dense, and the getdents64 calls that listing needs are a good part
// of a walk's cost (see docs/performance.md). A run of maxHoles closed
// numbers (a sparse table, or descriptors closed during the walk) falls
// back to listing the numbers not yet read.
func (w *fdWalker) walk(dir string, keep func(uint64) bool, t *fdTable) error {
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(dfd)
	from := 0 // descriptors below it have been read
	var st unix.Stat_t
	if w.probe && unix.Fstat(dfd, &st) == nil && st.Size > 0 {
		found, holes := 0, 0
		for ; found < int(st.Size); from++ {
			if holes == maxHoles {
				break
			}
			w.name = append(strconv.AppendInt(w.name[:0], int64(from), 10), 0)
			switch ok, err := w.entry(dfd, &w.name[0], keep, t); {
			case err != nil:
				return &os.PathError{Op: "readlink", Path: dir, Err: err}
			case ok:
				found, holes = found+1, 0
			default:
				holes++
			}
		}
		if found >= int(st.Size) {
			return nil
		}
	}
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
		for b := w.dirents[:n]; ; {
			var name []byte
			var ok bool
			if name, b, ok = nextDirent(b); !ok {
				break
			}
			if name[0] == '.' {
				continue // "." and ".."; fd names are digits
			}
			if from > 0 {
				if fd, err := parseDec(name[:max(0, bytes.IndexByte(name, 0))], 31); err == nil && int(fd) < from {
					continue // read by the probe
				}
			}
			if ok, err := w.entry(dfd, &name[0], keep, t); err != nil {
				return &os.PathError{Op: "readlink", Path: dir, Err: err}
			} else if !ok {
				t.open++ // closed since the directory was read: it was open
			}
		}
	}
}

// entry reads the link of the descriptor named by the NUL-terminated name
// in dirfd into t. It reports false when there is no such descriptor, and
// an error when the link may not be read.
func (w *fdWalker) entry(dirfd int, name *byte, keep func(uint64) bool, t *fdTable) (bool, error) {
	ln, errno := readlinkat(dirfd, name, w.link, w.probe)
	switch {
	case errno == unix.EACCES || errno == unix.EPERM:
		// Some kernels and sandboxes list fds but deny the links.
		return false, errno
	case errno != 0:
		return false, nil
	}
	ino, isSocket := parseSocketLink(w.link[:ln])
	t.open++
	if isSocket {
		t.socketFDs++
		if keep == nil || keep(ino) {
			t.sockets = append(t.sockets, ino)
		}
	}
	return true, nil
}

// readlinkat calls readlinkat(2) on a NUL-terminated name inside a
// getdents buffer: unix.Readlinkat would copy the name to a new string and
// then to a new C string, two allocations per descriptor.
//
// On procfs (procfs true) it is a raw syscall, which the Go scheduler does
// not hear of: a PID/fd link is made from the kernel's own tables, with no
// I/O and no sleeping lock, and the scheduler's bookkeeping around each
// call (entersyscall, exitsyscall, handing the P on) is a measurable part
// of a large scan, its walkers doing nothing else (see
// docs/performance.md). A fixture tree's links are on a disk, which may
// block: those take the ordinary syscall.
func readlinkat(dirfd int, name *byte, buf []byte, procfs bool) (int, unix.Errno) {
	syscall6 := unix.Syscall6
	if procfs {
		syscall6 = unix.RawSyscall6
	}
	n, _, errno := syscall6(unix.SYS_READLINKAT, uintptr(dirfd), uintptr(unsafe.Pointer(name)),
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

// direntName is the offset of the name in a struct linux_dirent64: ino
// u64, off s64, reclen u16, type u8, then the NUL-terminated name.
const direntName = 19

// nextDirent splits the first linux_dirent64 record off b, as getdents64
// wrote it, and returns its name (NUL-terminated, at least one byte before
// the NUL) and the records after it; ok is false at the end of b or at a
// record whose length does not fit.
func nextDirent(b []byte) (name, rest []byte, ok bool) {
	if len(b) < direntName+1 {
		return nil, nil, false
	}
	reclen := int(binary.NativeEndian.Uint16(b[16:]))
	if reclen < direntName+2 || reclen > len(b) {
		return nil, nil, false
	}
	return b[direntName:reclen], b[reclen:], true
}

// fdTable is what a walk of PID/fd found.
type fdTable struct {
	open      int      // open descriptors
	socketFDs int      // of which sockets of any family
	sockets   []uint64 // inodes of the socket descriptors the walk kept
}

var socketPrefix = []byte("socket:[")

// parseSocketLink returns the inode of a "socket:[12345]" link target.
func parseSocketLink(target []byte) (uint64, bool) {
	if !bytes.HasPrefix(target, socketPrefix) || len(target) < len(socketPrefix)+2 || target[len(target)-1] != ']' {
		return 0, false
	}
	ino, err := parseDec(target[len(socketPrefix):len(target)-1], 64)
	return ino, err == nil
}

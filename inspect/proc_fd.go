package inspect

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// fdTable is what a walk of PID/fd found.
type fdTable struct {
	open    int      // open descriptors
	sockets []uint64 // inodes of the socket descriptors (any family)
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

// readFDs walks dir (a PID/fd directory) and reads each link once with
// readlinkat on the open directory. A descriptor closed during the walk is
// skipped: the process may close files while we read.
func (fsys FS) readFDs(dir string) (fdTable, error) {
	if err := fsys.fault(dir); err != nil {
		return fdTable{}, err
	}
	f, err := os.Open(dir)
	if err != nil {
		return fdTable{}, err
	}
	defer f.Close()
	var t fdTable
	buf := make([]byte, 256)
	dfd := int(f.Fd())
	for {
		names, err := f.Readdirnames(1024)
		for _, name := range names {
			t.open++
			n, lerr := unix.Readlinkat(dfd, name, buf)
			if errors.Is(lerr, unix.EACCES) || errors.Is(lerr, unix.EPERM) {
				// Some kernels and sandboxes list fds but deny the links.
				return fdTable{}, &os.PathError{Op: "readlink", Path: dir + "/" + name, Err: lerr}
			}
			if lerr != nil {
				continue // closed since the directory was read
			}
			if ino, ok := parseSocketLink(buf[:n]); ok {
				t.sockets = append(t.sockets, ino)
			}
		}
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			return t, err
		}
	}
}

// readNetNS returns the inode of the namespace a PID/ns/net link names
// ("net:[4026531840]").
func (fsys FS) readNetNS(link string) (uint64, error) {
	if err := fsys.fault(link); err != nil {
		return 0, err
	}
	target, err := os.Readlink(link)
	if err != nil {
		return 0, err
	}
	const prefix = "net:["
	if len(target) < len(prefix)+2 || target[:len(prefix)] != prefix || target[len(target)-1] != ']' {
		return 0, &ParseError{Path: link, Line: 1, Text: target, Err: errors.New(`want "net:[INODE]"`)}
	}
	return strconv.ParseUint(target[len(prefix):len(target)-1], 10, 64)
}

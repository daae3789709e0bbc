package inspect

import (
	"errors"
	"os"
	"strconv"
)

// readNetNS returns the inode of the namespace a PID/ns/net link names
// ("net:[4026531840]").
func (fsys FS) readNetNS(link string) (uint64, error) {
	if fsys.native {
		return 0, nil // no network namespaces to tell apart
	}
	if err := fsys.fault(link); err != nil {
		return 0, err
	}
	target, err := os.Readlink(link)
	if err != nil {
		return 0, err
	}
	ns, err := parseNetNSLink(target)
	if err != nil {
		return 0, &ParseError{Path: link, Line: 1, Text: target, Err: err}
	}
	return ns, nil
}

// parseNetNSLink returns the inode of a "net:[4026531840]" link target.
func parseNetNSLink(target string) (uint64, error) {
	const prefix = "net:["
	if len(target) < len(prefix)+2 || target[:len(prefix)] != prefix || target[len(target)-1] != ']' {
		return 0, errors.New(`want "net:[INODE]"`)
	}
	ns, err := strconv.ParseUint(target[len(prefix):len(target)-1], 10, 64)
	if err != nil {
		return 0, errors.New(`want "net:[INODE]", INODE a number`)
	}
	return ns, nil
}

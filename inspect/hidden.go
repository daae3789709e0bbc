package inspect

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// hiddenView is what a proc mount's hidepid option hides from this
// process: with hidepid=invisible (2) or ptraceable (4) the PID directories
// of processes it may not ptrace are not listed at all, and with noaccess
// (1) they are listed but their files refused (which the scan already
// counts as denied). A process it cannot see is one it could not inspect,
// never one that does not exist: --pid 1 --allow-missing must not pass, and
// --name must not say "no process matches", when they may be hidden.
type hiddenView struct {
	option string // as mountinfo shows it: "hidepid=invisible", "hidepid=2"
}

// hidden reports whether other users' processes may be missing from the
// proc root.
func (h hiddenView) hidden() bool { return h.option != "" }

// warning says what the view hides, for the snapshot.
func (h hiddenView) warning(root string) string {
	return fmt.Sprintf("%s is mounted with %s: processes of other users are hidden from this one, "+
		"so their sockets have no owner here and they cannot be selected; run as root for complete ownership", root, h.option)
}

// hint says why a selection may find nothing, for ErrDenied.
func (h hiddenView) hint(root string) string {
	return fmt.Sprintf("%s is mounted with %s, which hides other users' processes; run as root for complete ownership", root, h.option)
}

// mountinfoPath is the mount table read to find the proc root's options;
// tests point it at a fixture.
var mountinfoPath = "/proc/self/mountinfo"

// readHiddenView finds the proc root's mount in the mount table and
// returns what its options hide from this process: nothing for root (it
// may ptrace every process) or a member of the mount's gid= group, nothing
// when the root is not a proc mount point or the table cannot be read.
// Only a real procfs has mount options (a fixture tree has none).
func (fsys FS) readHiddenView() hiddenView {
	if !fsys.procfs || geteuid() == 0 {
		return hiddenView{}
	}
	mp, err := filepath.Abs(fsys.root)
	if err != nil {
		return hiddenView{}
	}
	if r, err := filepath.EvalSymlinks(mp); err == nil {
		mp = r
	}
	f, err := os.Open(mountinfoPath)
	if err != nil {
		return hiddenView{}
	}
	defer f.Close()
	opts, err := parseMountinfo(f, mp)
	if err != nil {
		return hiddenView{}
	}
	return hiddenOptions(opts, inGroup)
}

// inGroup reports whether this process is in group gid.
func inGroup(gid int) bool {
	if os.Getegid() == gid {
		return true
	}
	groups, err := os.Getgroups()
	return err == nil && slices.Contains(groups, gid)
}

// hiddenOptions returns what a proc mount's super options hide from a
// process that is not root, given whether it is in a group. The kernel
// prints hidepid by name since Linux 5.8 (fs/proc/root.c,
// proc_show_options), as a number before; gid= exempts its members.
func hiddenOptions(opts []string, member func(gid int) bool) hiddenView {
	var hide string
	gid := -1
	for _, o := range opts {
		switch k, v, _ := strings.Cut(o, "="); k {
		case "hidepid":
			switch v {
			case "2", "4", "invisible", "ptraceable":
				hide = o
			default: // 0, off; 1, noaccess: listed, and refused as denied
				hide = ""
			}
		case "gid":
			if n, err := strconv.Atoi(v); err == nil {
				gid = n
			}
		}
	}
	if hide == "" || (gid >= 0 && member(gid)) {
		return hiddenView{}
	}
	return hiddenView{option: hide}
}

// parseMountinfo returns the super options (after the " - fstype source"
// separator) of the proc filesystem mounted last at mountPoint, nil when
// there is none. The format is proc(5)'s /proc/PID/mountinfo
// (fs/proc_namespace.c, show_mountinfo): mount ID, parent ID, major:minor,
// root, mount point (octal escapes for space, tab, newline and backslash),
// mount options, optional fields, "-", filesystem type, source, super
// options.
func parseMountinfo(r io.Reader, mountPoint string) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var opts []string
	n := 0
	for sc.Scan() {
		n++
		fields := strings.Fields(sc.Text())
		sep := slices.Index(fields, "-")
		if len(fields) < 6 || sep < 6 || sep+3 >= len(fields) {
			return nil, &ParseError{Line: n, Text: sc.Text(), Err: errors.New(`want "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... - TYPE SOURCE SUPEROPTIONS"`)}
		}
		if fields[sep+1] == "proc" && unescapeMount(fields[4]) == mountPoint {
			opts = strings.Split(fields[sep+3], ",") // a later mount on the same point hides the earlier
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return opts, nil
}

// unescapeMount undoes the kernel's octal escapes in a mount point
// (seq_file's mangle_path: "\040" for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mayBeHidden reports whether a PID the proc root does not list may be a
// process hidden from this one rather than none. On this host's /proc,
// kill(pid, 0) tells: ESRCH is no process, EPERM one of another user's.
// Elsewhere (another pid namespace's proc) it cannot be told, and a
// missing PID may be hidden.
func (fsys FS) mayBeHidden(pid int) bool {
	if pid <= 0 {
		return false
	}
	if !fsys.live {
		return true
	}
	return !noSuchProcess(pid)
}

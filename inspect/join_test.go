package inspect

import (
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOwnerJoin(t *testing.T) {
	socks := []Socket{{Inode: 10}, {Inode: 11}, {Inode: 12}, {Inode: 0}}
	j := newOwnerJoin(socks, map[uint64]int32{10: 0, 11: 1, 12: 2})
	// Processes come in the order their descriptors are in, not by PID.
	procs := []procScan{
		{p: Process{PID: 300}, sockets: []uint64{11, 11, 99}},                // a dup in one process; 99 is not wanted
		{p: Process{PID: 100}, sockets: []uint64{10, 11}},                    // 11 is shared
		{p: Process{PID: 200}, sockets: []uint64{12}, err: fs.ErrPermission}, // not read: owns nothing
	}
	for i := range procs {
		j.add(&procs[i])
	}
	j.finish()
	var got [][]int
	for _, s := range socks {
		got = append(got, s.PIDs)
	}
	if diff := cmp.Diff([][]int{{100}, {100, 300}, nil, nil}, got); diff != "" {
		t.Errorf("owners mismatch (-want +got):\n%s", diff)
	}
	if procs[0].sockets != nil || procs[1].sockets != nil {
		t.Errorf("the join kept the inodes of joined processes: %v, %v", procs[0].sockets, procs[1].sockets)
	}
}

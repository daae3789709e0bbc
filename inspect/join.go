package inspect

import "slices"

// ownerJoin puts the pids of processes whose descriptors are in (see
// ownerSource) into the sockets they hold.
// Most sockets have one owner, so those share one backing array, and a
// shared socket's list grows on its own.
type ownerJoin struct {
	socks  []Socket
	wanted map[uint64]int32 // socket inode -> index in socks
	pids   []int            // the shared backing array
	shared []int32          // sockets with more than one owner
	owned  int              // sockets of wanted with an owner
}

func newOwnerJoin(socks []Socket, wanted map[uint64]int32) *ownerJoin {
	return &ownerJoin{socks: socks, wanted: wanted, pids: make([]int, 0, len(wanted))}
}

// add joins one process; those that could not be read own nothing.
func (j *ownerJoin) add(ps *procScan) {
	if ps.err != nil {
		return
	}
	pid := ps.p.PID
	for _, ino := range ps.sockets {
		i, ok := j.wanted[ino]
		if !ok {
			continue // a socket of another family, or filtered out
		}
		s := &j.socks[i]
		switch {
		case len(s.PIDs) == 0 && len(j.pids) < cap(j.pids):
			j.pids = append(j.pids, pid)
			s.PIDs = j.pids[len(j.pids)-1 : len(j.pids) : len(j.pids)]
			j.owned++
		case len(s.PIDs) == 0:
			s.PIDs = []int{pid}
			j.owned++
		case s.PIDs[len(s.PIDs)-1] != pid: // not a dup in the same process
			if len(s.PIDs) == 1 {
				j.shared = append(j.shared, i)
			}
			s.PIDs = append(s.PIDs, pid)
		}
	}
	ps.sockets = nil
}

// finish sorts the owners of shared sockets: processes are joined in the
// order the owner source hands them on.
func (j *ownerJoin) finish() {
	for _, i := range j.shared {
		slices.Sort(j.socks[i].PIDs)
	}
}

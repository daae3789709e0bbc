// Command gen writes the fixture proc trees under testdata/ from scratch:
//
//	go run ./testdata/gen
//
// Run it from the repository root. It deletes and rewrites incident/client,
// incident/peer, healthy, ipv6, netns, denied and hung (one file each here, named
// for the tree) and broken (broken.go); it leaves leaky/ and fuzz/ alone.
// It is deterministic: the same source always writes the same bytes, so a
// regeneration shows up in git only when the generator changed.
//
// Every line is printed with the format string of the kernel function that
// prints it (cited at each writer: net_tcp.go for net/, proc_pid.go for
// PID/, write.go for sys/), so the trees read like /proc of a 6.x kernel on
// a little-endian machine. All hosts, ports, inodes and kernel pointers are
// invented; see testdata/README.md for what each tree holds.
package main

import (
	"log"
	"os"
)

func main() {
	if _, err := os.Stat("go.mod"); err != nil {
		log.Fatal("run from the repository root: go run ./testdata/gen")
	}
	for _, t := range []*tree{incidentClient(), incidentPeer(), healthy(), ipv6(), netns(), denied(), hung()} {
		if err := os.RemoveAll(t.dir); err != nil {
			log.Fatal(err)
		}
		t.write()
	}
	if err := os.RemoveAll(brokenDir); err != nil {
		log.Fatal(err)
	}
	broken()
}

// Command gopsutil-conns lists TCP connections with gopsutil's
// net.ConnectionsWithContext (which resolves the owning pids, as
// node-level agents do) and prints the count per status, so that
// bench/compare.sh can time it like the other tools.
package main

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/shirou/gopsutil/v4/net"
)

func main() {
	conns, err := net.ConnectionsWithContext(context.Background(), "tcp")
	if err != nil {
		fmt.Fprintln(os.Stderr, "gopsutil-conns:", err)
		os.Exit(1)
	}
	byStatus := map[string]int{}
	owned := 0
	for _, c := range conns {
		byStatus[c.Status]++
		if c.Pid > 0 {
			owned++
		}
	}
	statuses := make([]string, 0, len(byStatus))
	for s := range byStatus {
		statuses = append(statuses, s)
	}
	slices.Sort(statuses)
	for _, s := range statuses {
		fmt.Printf("%-12s %d\n", s, byStatus[s])
	}
	fmt.Printf("%-12s %d (%d with a pid)\n", "total", len(conns), owned)
}

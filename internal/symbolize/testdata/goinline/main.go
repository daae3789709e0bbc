// Command goinline is the program of TestGoInline: it prints the return
// address of a call made in code the compiler inlined twice over (open
// into dial into run), then waits on stdin so that the test can read its
// maps. The LINE marks are the lines the test expects.
package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	fmt.Printf("%x\n", run())
	var b [1]byte
	_, _ = os.Stdin.Read(b[:]) // until the test is done
}

//go:noinline
func run() uintptr {
	return dial() // LINE:dial the call of dial
}

// dial and open are small: the compiler inlines them.
func dial() uintptr {
	return open() // LINE:open the call of open
}

func open() uintptr {
	return here() // LINE:probe the pc the test names
}

// here returns the address its call returns to, in open's code.
//
//go:noinline
func here() uintptr {
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:])
	return pcs[0]
}

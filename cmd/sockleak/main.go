// Command sockleak finds leaked TCP sockets and says whose bug they are.
package main

import "os"

func main() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) }

package main

// The man pages in docs/man, from the commands (man_test.go).
//go:generate go test -run ^TestManPages$ -update .

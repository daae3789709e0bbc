//go:build linux && !amd64

package trace

const sysAccept = -1

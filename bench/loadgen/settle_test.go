//go:build linux

package main

import (
	"net/netip"
	"testing"
)

func TestParseHexAddr(t *testing.T) {
	got, err := parseHexAddr("0100007F:1F90")
	if want := netip.MustParseAddrPort("127.0.0.1:8080"); err != nil || got != want {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
}

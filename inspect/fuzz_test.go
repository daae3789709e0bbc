package inspect

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParseNetTCP(f *testing.F) {
	const (
		listen4 = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1 0000000000000000 100 0 0 10 0\n"
		mapped6 = "   3: 0000000000000000FFFF00000900000A:01BB 0000000000000000FFFF00002C0200C0:9C56 01 00000000:00000000 02:00001B58 00000000 10004        0 61700025 2 00000000aa44d62d 20 4 30 10 -1\n"
	)
	// Header only.
	f.Add([]byte(tcpHeader), false)
	// A listener.
	f.Add([]byte(tcpHeader+listen4), false)
	// CLOSE_WAIT from the incident fixture, padded.
	f.Add([]byte(tcpHeader+"   2: 0700000A:A869 0500000A:1B58 08 00000000:000001C6 00:00000000 00000000 10001        0 48213445 1 0000000070495383 20 4 30 10 -1                 \n"), false)
	// TIME_WAIT: inode 0, short tail.
	f.Add([]byte(tcpHeader+"   7: 0700000A:B02C 1E00000A:1F90 06 00000000:00000000 03:000016A8 00000000     0        0 0 3 0000000000000000\n"), false)
	// IPv4-mapped tcp6 row.
	f.Add([]byte(tcp6Header+mapped6), true)
	// Tcp6 wildcard.
	f.Add([]byte(tcp6Header+"   0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11 1 0000000000000000 100 0 0 10 0\n"), true)
	// 2001:db8:: row.
	f.Add([]byte(tcp6Header+"   2: B80D0120000000000000000001000000:01BB B80D0120010000000000000020000000:C488 01 000001A0:00000002 01:00000016 00000001 10004        0 61700020 2 00000000a944d49a 20 4 30 10 -1\n"), true)
	// Missing colon in an address.
	f.Add([]byte(tcpHeader+"   0: 0100007F1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5\n"), false)
	// Missing colon after the slot.
	f.Add([]byte(tcpHeader+"   0 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5\n"), false)
	// Over-long hex address.
	f.Add([]byte(tcpHeader+"   0: 0100007F00:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5\n"), false)
	// IPv4-width address in tcp6.
	f.Add([]byte(tcp6Header+listen4), true)
	// IPv6-width address in tcp.
	f.Add([]byte(tcpHeader+mapped6), false)
	// CRLF line endings.
	f.Add([]byte(strings.ReplaceAll(tcpHeader+listen4, "\n", "\r\n")), false)
	// Tabs between fields.
	f.Add([]byte(tcpHeader+"0:\t0100007F:1F90\t00000000:0000\t0A\t00000000:00000000\t00:00000000\t00000000\t0\t0\t5\n"), false)
	// Largest value of every field.
	f.Add([]byte(tcpHeader+"   0: FFFFFFFF:FFFF FFFFFFFF:FFFF FF FFFFFFFFFFFFFFFF:FFFFFFFFFFFFFFFF FF:FFFFFFFFFFFFFFFF FFFFFFFFFFFFFFFF 4294967295 18446744073709551615 18446744073709551615\n"), false)
	// Huge uid.
	f.Add([]byte(tcpHeader+"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 99999999999999999999 0 5\n"), false)
	// Unknown state.
	f.Add([]byte(tcpHeader+"   0: 0100007F:1F90 00000000:0000 0D 00000000:00000000 00:00000000 00000000     0        0 5\n"), false)
	// Short line.
	f.Add([]byte(tcpHeader+"   0: 0100007F:1F90 00000000:0000 0A\n"), false)
	// Trailing blank lines.
	f.Add([]byte(tcpHeader+"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5\n\n\n"), false)
	// Empty.
	f.Add([]byte(""), false)
	// Bare header, then a lone colon.
	f.Add([]byte("sl\n:"), false)
	// No header.
	f.Add([]byte("junk\n"), false)
	// Every row of the fixture tables, one file per seed.
	for _, name := range []string{"incident/peer/proc/net/tcp", "ipv6/proc/net/tcp6", "netns/proc/5001/net/tcp", "broken/net/tcp_crlf"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", filepath.FromSlash(name)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, strings.HasSuffix(name, "6"))
	}

	f.Fuzz(func(t *testing.T, in []byte, tcp6 bool) {
		proto := TCP
		if tcp6 {
			proto = TCP6
		}
		socks, err := ParseNetTCP(bytes.NewReader(in), proto)
		if err != nil {
			if socks != nil {
				t.Errorf("ParseNetTCP() = %d sockets with error %v, want none", len(socks), err)
			}
			return
		}
		for _, s := range socks {
			if st := s.State.String(); s.State.Valid() == strings.HasPrefix(st, "UNKNOWN") {
				t.Errorf("state %d: String() = %q, Valid() = %v", uint8(s.State), st, s.State.Valid())
			}
			if _, err := ParseState(s.State.String()); s.State.Valid() && err != nil {
				t.Errorf("state %v does not parse back: %v", s.State, err)
			}
			if s.Proto != proto {
				t.Errorf("Proto = %q, want %q", s.Proto, proto)
			}
			if !s.Local.IsValid() || !s.Remote.IsValid() {
				t.Errorf("addresses %v, %v: want both valid", s.Local, s.Remote)
			}
			for _, a := range [...]struct {
				name string
				ok   bool
			}{
				{"local", s.Local.Addr().Is4() || (proto == TCP6 && s.Local.Addr().Is6() && !s.Local.Addr().Is4In6())},
				{"remote", s.Remote.Addr().Is4() || (proto == TCP6 && s.Remote.Addr().Is6() && !s.Remote.Addr().Is4In6())},
			} {
				if !a.ok {
					t.Errorf("%s address of a %s socket: %v; want IPv4, or unmapped IPv6 in tcp6", a.name, proto, s)
				}
			}
			if s.Local.Addr().Zone() != "" || s.Remote.Addr().Zone() != "" {
				t.Errorf("addresses %v, %v have a zone", s.Local, s.Remote)
			}
			if s.NetNS != 0 || s.PIDs != nil {
				t.Errorf("the parser set NetNS %d or PIDs %v; those are Scan's", s.NetNS, s.PIDs)
			}
		}
	})
}

func FuzzParseLimits(f *testing.F) {
	// Systemd's default.
	f.Add(limitsText("1024", "524288"))
	// Unlimited.
	f.Add(limitsText("unlimited", "unlimited"))
	// The incident.
	f.Add(limitsText("2048", "4096"))
	// Garbage soft limit.
	f.Add(limitsText("lots", "4096"))
	// Negative: the kernel prints %lu, so a sign is never its output.
	f.Add(limitsText("-2", "4096"))
	// -1 is Unlimited's value, but the kernel prints "unlimited".
	f.Add(limitsText("-1", "4096"))
	// Explicit sign.
	f.Add(limitsText("+5", "4096"))
	// Over int64.
	f.Add(limitsText("99999999999999999999", "1"))
	// Hard column missing.
	f.Add("Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024\n")
	// CRLF.
	f.Add("Limit                     Soft Limit           Hard Limit           Units     \r\nMax open files            1024                 4096                 files     \r\n")
	// Tabs in place of padding.
	f.Add("Limit\nMax open files\tx\ty\n")
	// Empty.
	f.Add("")
	// Header only.
	f.Add("Limit ")
	for _, name := range []string{"incident/client/proc/4242/limits", "broken/limits/garbage", "broken/limits/no_open_files"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", filepath.FromSlash(name)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, in string) {
		l, err := ParseLimits(strings.NewReader(in))
		if err != nil {
			if l != (ProcLimits{}) {
				t.Errorf("ParseLimits() = %+v with error %v, want zero", l, err)
			}
			return
		}
		if l.OpenFilesSoft < Unlimited || l.OpenFilesHard < Unlimited {
			t.Errorf("ParseLimits() = %+v; limits must be >= -1 (Unlimited)", l)
		}
	})
}

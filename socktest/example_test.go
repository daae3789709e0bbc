//go:build linux

package socktest_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sockleak/sockleak/socktest"
)

// A connection whose peer closed and this process did not is in
// CLOSE_WAIT: Find reports it (and the listener still open) until both
// are closed. In a test, defer VerifyNone instead: it fails the test with
// the same message.
func Example() {
	base := socktest.IgnoreCurrent()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	d := net.Dialer{KeepAlive: -1, Control: socktest.Control} // Control: the message says where c was opened
	c, _ := d.Dial("tcp", ln.Addr().String())
	server, _ := ln.Accept()
	server.Close()
	c.Read(make([]byte, 1)) // EOF: the peer's FIN is in

	err := socktest.Find(base, socktest.MaxWait(0))
	for _, line := range strings.Split(err.Error(), "\n") {
		state, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		fmt.Println(state) // the states; the message has addresses, ages, descriptors and lines too
	}
	c.Close()
	ln.Close()
	fmt.Println(socktest.Find(base))
	// Output:
	// socktest:
	// LISTEN
	// CLOSE_WAIT
	// opened
	// <nil>
}

// Defer VerifyNone at the top of a test, with IgnoreCurrent to take a
// baseline then; a client's transport made with Transport says which
// request opened a connection left open.
func ExampleVerifyNone() {
	test := func(t *testing.T) {
		defer socktest.VerifyNone(t, socktest.IgnoreCurrent())
		srv := httptest.NewServer(http.NotFoundHandler())
		defer srv.Close()
		tr := &http.Transport{}
		defer tr.CloseIdleConnections() // without it, the pooled connection leaks
		client := &http.Client{Transport: socktest.Transport(tr)}
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
	}
	_ = test
}

// VerifyTestMain checks the whole package once its tests have ended: the
// safe choice when tests run in parallel.
func ExampleVerifyTestMain() {
	testMain := func(m *testing.M) {
		socktest.VerifyTestMain(m, socktest.IgnoreCurrent())
	}
	_ = testMain
}

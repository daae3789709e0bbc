package client

import (
	"context"
	"fmt"
)

func ExampleSend() {
	p, err := StartPeer(PeerOptions{Behaviour: Echo})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	reply, err := Send(context.Background(), p.Addr().String(), []byte("hello\n"), Options{Delimiter: []byte("\n")})
	fmt.Printf("%q %v\n", reply, err)
	// Output: "hello\n" <nil>
}

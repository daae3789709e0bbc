package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"syscall"
	"time"

	"github.com/sockleak/sockleak/client"
)

// Child is the client side of the demo, run in a child process with args
// from Run: it lowers its open-files limit, makes its requests with the
// leaky or the reference client, reports each on stdout, then holds its
// sockets until stdin closes, so that the parent can inspect them.
func Child(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo-client", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	kind := fs.String("client", "leaky", "leaky or reference")
	addr := fs.String("addr", "", "peer address")
	n := fs.Int("n", 100, "transactions")
	timeout := fs.Duration("timeout", 50*time.Millisecond, "receive timeout")
	fdLimit := fs.Uint64("fd-limit", 64, "soft open-files limit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *kind != "leaky" && *kind != "reference" {
		return fmt.Errorf("demo client: -client %q: want leaky or reference", *kind)
	}
	limit, err := lowerFDLimit(*fdLimit)
	if err != nil {
		return fmt.Errorf("demo client: lower RLIMIT_NOFILE: %w", err)
	}
	fmt.Fprintf(stdout, "ready %d\n", limit)

	leaky := &client.LeakyClient{}
	defer leaky.CloseLeaked() // also keeps the leaked conns referenced to the end
	opts := client.Options{ReadTimeout: *timeout, Delimiter: []byte("\n")}
	for i := 1; i <= *n; i++ {
		req := []byte("request " + strconv.Itoa(i) + "\n")
		var err error
		if *kind == "leaky" {
			_, err = leaky.Send(ctx, *addr, req, opts)
		} else {
			_, err = client.Send(ctx, *addr, req, opts)
		}
		var ce *client.Error
		if err != nil && (!errors.As(err, &ce) || ce.Kind == client.KindOther || ce.Kind == client.KindRefused) {
			msg := err.Error()
			if errors.Is(err, syscall.EMFILE) {
				msg += " (EMFILE)"
			}
			fmt.Fprintf(stdout, "stop %d %s\n", i, msg)
			break
		}
		fmt.Fprintf(stdout, "tx %d\n", i)
	}
	fmt.Fprintln(stdout, "done")
	_, err = io.Copy(io.Discard, stdin)
	return err
}

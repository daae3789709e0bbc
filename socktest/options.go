package socktest

import (
	"errors"
	"fmt"
	"time"

	"github.com/sockleak/sockleak/inspect"
)

// An Option changes what VerifyNone, VerifyTestMain and Find count as a
// leak, or how long they wait for sockets to close.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// DefaultMaxWait is how long a check retries, unless MaxWait says
// otherwise, before it reports the sockets still open.
const DefaultMaxWait = 2 * time.Second

// config is what the options ask for.
type config struct {
	// baseline holds the sockets open when IgnoreCurrent was called, by
	// inode, with their state then; nil when there is no baseline.
	baseline  map[uint64]inspect.TCPState
	peers     []inspect.Peer
	ports     []uint16
	states    []inspect.TCPState
	listeners bool // ignore every listener
	maxWait   time.Duration
	errs      []error // options that could not be parsed
}

func newConfig(opts []Option) *config {
	c := &config{maxWait: DefaultMaxWait}
	for _, o := range opts {
		o.apply(c)
	}
	return c
}

func (c *config) err() error { return errors.Join(c.errs...) }

// IgnoreCurrent takes a baseline: the TCP sockets this process holds when
// it is called are not blamed for being open at the end (unless one is in
// CLOSE_WAIT then and was not at the baseline). Options are evaluated
// when the deferred call is made, so
//
//	defer socktest.VerifyNone(t, socktest.IgnoreCurrent())
//
// takes the baseline at the top of the test.
func IgnoreCurrent() Option {
	socks, err := readSockets(func(*inspect.Socket) bool { return false })
	return optionFunc(func(c *config) {
		switch {
		case errors.Is(err, errors.ErrUnsupported):
			c.errs = append(c.errs, err) // the check is skipped: say only why
			return
		case err != nil:
			c.errs = append(c.errs, fmt.Errorf("socktest: baseline: %w", err))
			return
		}
		c.baseline = make(map[uint64]inspect.TCPState, len(socks))
		for _, s := range socks {
			c.baseline[s.Inode] = s.State
		}
	})
}

// IgnorePeers allows sockets connected to these peers: an IP
// ("127.0.0.1", "::1"), an IP and port ("127.0.0.1:6379") or a prefix
// ("10.0.0.0/8"). A peer that does not parse fails the check.
func IgnorePeers(peers ...string) Option {
	return optionFunc(func(c *config) { parseEach(c, "IgnorePeers", peers, inspect.ParsePeer, &c.peers) })
}

// IgnorePorts allows sockets whose local or remote port is one of these:
// a shared test server's, a pool's upstream.
func IgnorePorts(ports ...uint16) Option {
	return optionFunc(func(c *config) { c.ports = append(c.ports, ports...) })
}

// IgnoreListeners allows every listening socket, opened before the test
// or during it.
func IgnoreListeners() Option {
	return optionFunc(func(c *config) { c.listeners = true })
}

// IgnoreStates allows sockets in these states, named as the kernel does
// ("ESTABLISHED", "close_wait", "CLOSE-WAIT"). A name that does not parse
// fails the check.
func IgnoreStates(states ...string) Option {
	return optionFunc(func(c *config) { parseEach(c, "IgnoreStates", states, inspect.ParseState, &c.states) })
}

// parseEach appends to dst each of in that parse accepts, and notes the
// others as errors of the option name.
func parseEach[T any](c *config, name string, in []string, parse func(string) (T, error), dst *[]T) {
	for _, s := range in {
		v, err := parse(s)
		if err != nil {
			c.errs = append(c.errs, fmt.Errorf("socktest: %s: %w", name, err))
			continue
		}
		*dst = append(*dst, v)
	}
}

// MaxWait sets how long the check looks again for sockets to close
// before it reports them (DefaultMaxWait by default); 0 looks once.
func MaxWait(d time.Duration) Option {
	return optionFunc(func(c *config) { c.maxWait = max(d, 0) })
}

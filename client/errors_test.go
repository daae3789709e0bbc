package client

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestClassify(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithTimeout(context.Background(), -1)
	defer cancel2()
	opErr := func(err error) error {
		return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)}
	}
	for _, tt := range []struct {
		name string
		ctx  context.Context
		err  error
		want Kind
		is   error
		msg  string
	}{
		{"refused", context.Background(), opErr(syscall.ECONNREFUSED), KindRefused, ErrRefused, "connection refused: read tcp: read: connection refused"},
		{"reset", context.Background(), opErr(syscall.ECONNRESET), KindReset, ErrReset, "connection reset by peer: read tcp"},
		{"broken pipe is a reset", context.Background(), opErr(syscall.EPIPE), KindReset, ErrReset, ""},
		{"deadline", context.Background(), &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, KindTimeout, ErrTimeout, "timeout: read tcp"},
		{"EOF", context.Background(), io.EOF, KindPeerClosed, ErrPeerClosed, "peer closed before replying: read 127.0.0.1:7: EOF"},
		{"partial reply", context.Background(), io.ErrUnexpectedEOF, KindPeerClosed, ErrPeerClosed, ""},
		{"EMFILE is other", context.Background(), opErr(syscall.EMFILE), KindOther, nil, "read tcp: read: too many open files"},
		// Cancelling moves the deadline: the context, not the deadline, explains it.
		{"cancelled", cancelled, &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, KindCanceled, context.Canceled, "cancelled: read 127.0.0.1:7: context canceled"},
		{"context deadline", expired, &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, KindTimeout, context.DeadlineExceeded, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := classify(tt.ctx, "read", "127.0.0.1:7", tt.err)
			if e.Kind != tt.want {
				t.Errorf("kind = %v, want %v", e.Kind, tt.want)
			}
			if tt.is != nil && !errors.Is(e, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", e, tt.is)
			}
			for k, s := range sentinels {
				if k != tt.want && errors.Is(e, s) {
					t.Errorf("errors.Is(%v, %v) = true, want false", e, s)
				}
			}
			if tt.msg != "" && !strings.HasPrefix(e.Error(), tt.msg) {
				t.Errorf("message = %q, want it to start with %q", e.Error(), tt.msg)
			}
		})
	}
}

package inspect

import (
	"encoding/binary"
	"fmt"
	"io"
)

// fdRecordSize is the size of bpf/task_file.c's struct fd_record: tgid
// u32, fd u32, ino u64, in the host's byte order.
const fdRecordSize = 16

// fdRecord is one open descriptor as the task_file iterator reports it.
type fdRecord struct {
	tgid uint32
	fd   uint32
	ino  uint64 // a socket's inode; 0 for any other file
}

// decodeFDRecords calls fn for each record of the iterator's output b, in
// order (the iterator writes each process's descriptors together). Output
// that is not whole records is an error: a program and a decoder out of
// step, which no count should be taken from.
func decodeFDRecords(b []byte, fn func(fdRecord)) error {
	if len(b)%fdRecordSize != 0 {
		return fmt.Errorf("task_file iterator: %d bytes of output, not a whole number of %d-byte records", len(b), fdRecordSize)
	}
	for ; len(b) >= fdRecordSize; b = b[fdRecordSize:] {
		fn(fdRecord{
			tgid: binary.NativeEndian.Uint32(b[0:4]),
			fd:   binary.NativeEndian.Uint32(b[4:8]),
			ino:  binary.NativeEndian.Uint64(b[8:16]),
		})
	}
	return nil
}

// bpfReadSize is how much of the iterator's output is read at once: the
// kernel fills at most its seq_file buffer (a few pages) per read, and the
// records are decoded as they come, so a host's whole output (16 bytes per
// descriptor: 1.6 MB at 100k) is never held at once.
const bpfReadSize = 64 << 10

// readFDRecords reads the iterator's output from r to its end and calls
// fn for each record, in order; a read may end anywhere in a record.
func readFDRecords(r io.Reader, fn func(fdRecord)) error {
	buf := make([]byte, bpfReadSize)
	have := 0 // bytes of a record cut by the last read, at buf's start
	for {
		n, err := r.Read(buf[have:])
		have += n
		whole := have - have%fdRecordSize
		_ = decodeFDRecords(buf[:whole], fn) // whole records: no error
		have = copy(buf, buf[whole:have])
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the task_file iterator: %w", err)
		}
	}
	if have != 0 {
		return fmt.Errorf("task_file iterator: its output ends %d bytes into a %d-byte record", have, fdRecordSize)
	}
	return nil
}

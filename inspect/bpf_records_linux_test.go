package inspect

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// fdRecordBytes encodes records as bpf/task_file.c writes them.
func fdRecordBytes(recs ...fdRecord) []byte {
	var b []byte
	for _, r := range recs {
		b = binary.NativeEndian.AppendUint32(b, r.tgid)
		b = binary.NativeEndian.AppendUint32(b, r.fd)
		b = binary.NativeEndian.AppendUint64(b, r.ino)
	}
	return b
}

func TestDecodeFDRecords(t *testing.T) {
	want := []fdRecord{{1, 0, 0}, {1, 3, 4242}, {77, 5, 1<<63 + 9}, {^uint32(0), ^uint32(0), 1}}
	var got []fdRecord
	if err := decodeFDRecords(fdRecordBytes(want...), func(r fdRecord) { got = append(got, r) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("decoded %v, want %v", got, want)
	}
	if err := decodeFDRecords(nil, func(fdRecord) { t.Error("a record from no output") }); err != nil {
		t.Errorf("empty output: %v", err)
	}
	b := fdRecordBytes(want...)
	err := decodeFDRecords(b[:len(b)-3], func(fdRecord) { t.Error("a record from a torn output") })
	if err == nil || !strings.Contains(err.Error(), "61 bytes") {
		t.Errorf("torn output: error %v, want one naming its 61 bytes", err)
	}
}

// FuzzDecodeFDRecords: any output decodes to whole records or an error,
// never a panic, re-encodes to itself, and reads the same as a stream.
func FuzzDecodeFDRecords(f *testing.F) {
	f.Add(fdRecordBytes(fdRecord{1, 3, 4242}, fdRecord{2, 0, 0}))
	f.Add([]byte{1, 2, 3})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var recs []fdRecord
		err := decodeFDRecords(b, func(r fdRecord) { recs = append(recs, r) })
		if (err != nil) != (len(b)%fdRecordSize != 0) {
			t.Fatalf("%d bytes: error %v", len(b), err)
		}
		if err == nil && string(fdRecordBytes(recs...)) != string(b) {
			t.Fatalf("%x decoded to %v, which encodes differently", b, recs)
		}
		var streamed []fdRecord
		serr := readFDRecords(iotest.HalfReader(bytes.NewReader(b)), func(r fdRecord) { streamed = append(streamed, r) })
		if (serr != nil) != (err != nil) || err == nil && !slices.Equal(streamed, recs) {
			t.Fatalf("%x read as a stream: %v, %v; decoded whole: %v, %v", b, streamed, serr, recs, err)
		}
	})
}

func TestReadFDRecords(t *testing.T) {
	var want []fdRecord
	for i := range 9000 { // more than one read's worth
		want = append(want, fdRecord{uint32(i / 7), uint32(i % 7), uint64(i%3) * 1000})
	}
	b := fdRecordBytes(want...)
	for name, r := range map[string]func() io.Reader{
		"whole":    func() io.Reader { return bytes.NewReader(b) },
		"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"halves":   func() io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
	} {
		var got []fdRecord
		if err := readFDRecords(r(), func(rec fdRecord) { got = append(got, rec) }); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %d records, want %d, or not the same", name, len(got), len(want))
		}
	}
	err := readFDRecords(bytes.NewReader(b[:len(b)-5]), func(fdRecord) {})
	if err == nil || !strings.Contains(err.Error(), "ends 11 bytes into") {
		t.Errorf("torn output: %v", err)
	}
	injected := errors.New("injected")
	err = readFDRecords(iotest.TimeoutReader(bytes.NewReader(b)), func(fdRecord) {})
	if err == nil || errors.Is(err, injected) {
		t.Errorf("a failed read: %v", err)
	}
	err = readFDRecords(io.MultiReader(bytes.NewReader(b[:100]), iotest.ErrReader(injected)), func(fdRecord) {})
	if !errors.Is(err, injected) {
		t.Errorf("a failed read: %v, want it wrapped", err)
	}
}

package inspect

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
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
// never a panic, and re-encodes to itself.
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
	})
}

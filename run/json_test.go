package run

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestWriteJSON(t *testing.T) {
	res := leakingResult(t)
	var b bytes.Buffer
	if err := WriteJSON(&b, res); err != nil {
		t.Fatal(err)
	}
	var d Document
	if err := json.Unmarshal(b.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	if d.SchemaVersion != 1 || len(d.Leaks) != 1 || d.Leaks[0].PID != 8372 || d.Leaks[0].HeldSeconds != 2 ||
		d.Leaks[0].Remote != "127.0.0.1:7000" || d.Leaks[0].Open || d.Peak["CLOSE_WAIT"] != 2 || d.GraceSeconds != 1 {
		t.Errorf("JSON document = %+v", d)
	}
}

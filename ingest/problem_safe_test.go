package ingest

import (
	"bytes"
	"strings"
	"testing"
)

// The Reporter escapes file names and messages: both come from outside.
func TestReporterTerminalSafe(t *testing.T) {
	var out bytes.Buffer
	r := NewReporter(&out, 1)
	for range 2 {
		r.Report(Problem{Path: "f\x1b]2;T\a.log", Line: 1, Kind: Unrecognised, Msg: "an object with keys \x1b[2J\u202e"})
	}
	r.Close()
	if strings.ContainsAny(out.String(), "\x1b\a\u202e") {
		t.Errorf("raw control characters: %q", out.String())
	}
	if !strings.Contains(out.String(), `f\x1b]2;T\x07.log: ... and 1 more`) {
		t.Errorf("the file name is not shown escaped: %q", out.String())
	}
}

package cloud

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func seed(f *testing.F, glob string) {
	files, _ := filepath.Glob(filepath.Join("testdata", glob))
	for _, p := range files {
		if filepath.Ext(p) == ".golden" {
			continue
		}
		f.Add(readInput(f, p))
	}
	b, _ := os.ReadFile("testdata/bad-mixed.txt")
	f.Add(b)
}

// checkDecode holds Decode to its promises on any input: no panic, every
// record one line of JSON on a line that exists, Lines keeps the count.
func checkDecode(t *testing.T, data []byte) {
	res := Decode(data)
	lines := int64(bytes.Count(data, []byte{'\n'})) + 1
	for _, r := range res.Records {
		// Events are checked for shape, not validated in full: the
		// reader of the events does that.
		if len(r.Event) == 0 || r.Event[0] != '{' || bytes.IndexByte(r.Event, '\n') >= 0 {
			t.Fatalf("line %d: record is not one line of a JSON object: %q", r.Line, r.Event)
		}
		if r.Line < 1 || r.Line > lines {
			t.Fatalf("record on line %d of %d", r.Line, lines)
		}
	}
	for _, p := range res.Problems {
		if p.Line < 1 || p.Line > lines {
			t.Fatalf("problem on line %d of %d: %s", p.Line, lines, p.Msg)
		}
	}
	out := Lines(res, lines)
	if got := int64(bytes.Count(out, []byte{'\n'})); got != lines {
		t.Fatalf("Lines gave %d lines for %d", got, lines)
	}
}

func FuzzGKE(f *testing.F)        { seed(f, "gke-*"); f.Fuzz(checkDecode) }
func FuzzAKS(f *testing.F)        { seed(f, "aks-*"); f.Fuzz(checkDecode) }
func FuzzCloudWatch(f *testing.F) { seed(f, "cw-*"); f.Fuzz(checkDecode) }

package ingest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// A file the tail reads in several whole chunks (a backlog): the events
// come in file order, problems name their own lines, and the checkpoint
// ends at the file's end, with bad lines in both halves of the first chunk
// and in the second chunk.
func TestTailBigChunks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	var b strings.Builder
	var want []string
	bad := map[int]bool{10: true, 1500: true, 2900: true} // line numbers
	const total = 5000
	for line := 1; line <= total; line++ {
		if bad[line] {
			b.WriteString("{not json\n")
			continue
		}
		id := idsN("par", line, line+1)[0]
		want = append(want, id)
		b.WriteString(ev(id) + "\n")
	}
	if b.Len() < 2*defaultChunk {
		t.Fatalf("the file (%d bytes) must span several chunks", b.Len())
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	tl := &Tail{Path: path}
	r := startTail(t, tl)
	got := r.waitN(len(want))
	if !slices.Equal(got, want) {
		t.Fatalf("events out of order or missing: %d of %d", len(got), len(want))
	}
	var lines []int64
	for _, p := range r.problemList() {
		lines = append(lines, p.Line)
	}
	if !slices.Equal(lines, []int64{10, 1500, 2900}) {
		t.Errorf("problems on lines %v, want [10 1500 2900]", lines)
	}
	deadline := time.Now().Add(10 * time.Second)
	for c := tl.Acked(); c.Offset != int64(b.Len()) || c.Line != total; c = tl.Acked() {
		if time.Now().After(deadline) {
			t.Fatalf("acked offset %d line %d, want %d and %d", c.Offset, c.Line, b.Len(), total)
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rawBad > 0 {
		t.Errorf("%d events' raw bytes differ", r.rawBad)
	}
}

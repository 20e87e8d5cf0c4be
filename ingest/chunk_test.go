package ingest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/audit"
)

// want is what a Run should produce for a JSON-lines stream, computed the
// slow, obvious way: split on '\n', decode each line.
type want struct {
	ids     []string
	offsets []int64
	probs   []string // "line kind"
	lines   int64
}

func reference(data []byte, maxLine int) want {
	var w want
	off := 0
	for i, l := range bytes.Split(data, []byte{'\n'}) {
		line := int64(i + 1)
		start := off
		off += len(l) + 1
		if i == bytes.Count(data, []byte{'\n'}) && len(l) == 0 {
			break // after the final newline
		}
		w.lines = line
		if len(l) > maxLine {
			w.probs = append(w.probs, fmt.Sprintf("%d %s", line, TooLong))
			continue
		}
		l = bytes.TrimSuffix(l, []byte{'\r'})
		if len(bytes.TrimLeft(l, " \t\r")) == 0 {
			continue
		}
		evs, err := audit.Decode(l, nil)
		for _, e := range evs {
			w.ids = append(w.ids, e.AuditID)
			w.offsets = append(w.offsets, int64(start+rawOffset(l, e.Raw)))
		}
		if err != nil {
			k, _ := decodeProblem(err)
			w.probs = append(w.probs, fmt.Sprintf("%d %s", line, k))
		}
		for _, e := range evs {
			if e.BadUTF8 {
				w.probs = append(w.probs, fmt.Sprintf("%d %s", line, BadUTF8))
				break
			}
		}
	}
	return w
}

// mixedLog is a JSON-lines log with every kind of line, of varied lengths.
func mixedLog(n int, seed uint64, trailingNewline bool) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	for i := range n {
		id := fmt.Sprintf("id%d", i)
		switch r := rng.IntN(100); {
		case r < 70:
			e := ev(id)
			if pad := rng.IntN(300); pad > 0 {
				e = strings.Replace(e, `"verb"`, `"pad":"`+strings.Repeat("p", pad)+`","verb"`, 1)
			}
			b.WriteString(e)
		case r < 75:
			b.WriteString(ev(id) + "\r")
		case r < 80:
			b.WriteString(evList(id+"a", id+"b", id+"c"))
		case r < 84:
			b.WriteString(`{"kind":"Event","auditID":`) // malformed
		case r < 87:
			b.WriteString(`{"x":"` + strings.Repeat("L", 1600+rng.IntN(3000)) + `"}`) // too long
		case r < 90:
			b.WriteString(strings.Repeat(" ", rng.IntN(3)))
		case r < 93:
			b.WriteString(`{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1"}`)
		case r < 95:
			b.WriteString(strings.Replace(ev(id), "alice", "al\xc3\x28ce", 1))
		default:
			b.WriteString(ev(id))
		}
		if i < n-1 || trailingNewline {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// TestChunkBoundaries runs the same logs through chunk sizes down to one
// byte, so that lines straddle chunks, end exactly at chunk ends, and grow
// buffers, and checks the result against the reference.
func TestChunkBoundaries(t *testing.T) {
	const maxLine = 1500
	dir := t.TempDir()
	logs := map[string][]byte{
		"nl.log":    mixedLog(150, 1, true),
		"nonl.log":  mixedLog(150, 2, false),
		"exact.log": []byte(lines(ev("a0"), ev("a1"), ev("a2"), ev("a3"))), // all lines the same length
	}
	lineLen := len(ev("a0")) + 1
	chunks := []int{1, 2, 3, 7, 64, 333, lineLen - 1, lineLen, lineLen + 1, 2 * lineLen, 4096, defaultChunk}
	for name, data := range logs {
		p := writeFile(t, dir, name, string(data))
		ref := reference(data, maxLine)
		for i, chunk := range chunks {
			workers := 1 + 3*(i%2) // 1 or 4
			t.Run(fmt.Sprintf("%s/chunk%d/w%d", name, chunk, workers), func(t *testing.T) {
				t.Parallel()
				res := run(t, &Replay{Paths: []string{p}, MaxLine: maxLine, chunk: chunk, Workers: workers})
				compare(t, res, ref, data)
			})
		}
	}
}

func compare(t *testing.T, res result, ref want, data []byte) {
	t.Helper()
	if res.err != nil {
		t.Fatal(res.err)
	}
	if got := res.ids(); !eq(got, ref.ids) {
		t.Fatalf("events differ:\n got %q\nwant %q", got, ref.ids)
	}
	var offs []int64
	for _, b := range res.batches {
		offs = append(offs, b.Offsets...)
	}
	if !eq(offs, ref.offsets) {
		t.Errorf("offsets differ:\n got %v\nwant %v", offs, ref.offsets)
	}
	var probs []string
	for _, p := range res.problems {
		probs = append(probs, fmt.Sprintf("%d %s", p.Line, p.Kind))
	}
	if !eq(probs, ref.probs) {
		t.Errorf("problems differ:\n got %q\nwant %q", probs, ref.probs)
	}
	if res.sum.Lines != ref.lines || res.sum.Bytes != int64(len(data)) {
		t.Errorf("summary lines %d bytes %d, want %d %d", res.sum.Lines, res.sum.Bytes, ref.lines, len(data))
	}
	checkPositions(t, res.batches, data)
}

// checkPositions: each batch ends at a line end, after its events, and
// positions only move forward.
func checkPositions(t *testing.T, batches []Batch, data []byte) {
	t.Helper()
	var last Position
	for i, b := range batches {
		p := b.Pos
		if p.Offset < last.Offset || p.Line < last.Line {
			t.Fatalf("batch %d: position %+v before %+v", i, p, last)
		}
		if p.Offset != int64(len(data)) && (p.Offset == 0 || data[p.Offset-1] != '\n') {
			t.Fatalf("batch %d: position %d is not at a line end", i, p.Offset)
		}
		wantLine := int64(bytes.Count(data[:p.Offset], []byte{'\n'}))
		if p.Offset == int64(len(data)) && len(data) > 0 && data[len(data)-1] != '\n' {
			wantLine++
		}
		if p.Line != wantLine {
			t.Fatalf("batch %d: line %d at offset %d, want %d", i, p.Line, p.Offset, wantLine)
		}
		for k, e := range b.Events {
			if end := b.Offsets[k] + int64(len(e.Raw)); end > p.Offset {
				// Only a line with more than MaxBatch events may end after Pos.
				if len(b.Events) != MaxBatch {
					t.Fatalf("batch %d: event %q ends at %d, after the position %d", i, e.AuditID, end, p.Offset)
				}
			}
		}
		last = p
	}
}

// TestOrderManyChunks: thousands of chunks through four workers come out
// in order, in batches of at most MaxBatch.
func TestOrderManyChunks(t *testing.T) {
	ids := seq("o", 3000)
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(ev(id))
		b.WriteByte('\n')
	}
	data := b.String()
	dir := t.TempDir()
	half := strings.IndexByte(data[len(data)/2:], '\n') + len(data)/2 + 1
	p1 := writeFile(t, dir, "one.log", data[:half])
	p2 := writeFile(t, dir, "two.log", data[half:])
	res := run(t, &Replay{Paths: []string{p1, p2}, chunk: 2000, Workers: 4})
	if got := res.ids(); !eq(got, ids) {
		t.Fatalf("out of order or missing: %d events", len(got))
	}
	if res.sum.Files != 2 || res.sum.Events != 3000 || res.sum.Lines != 3000 {
		t.Errorf("summary %+v", res.sum)
	}
	for _, b := range res.batches {
		if want := filepath.Base(b.Pos.Path); want != "one.log" && want != "two.log" {
			t.Errorf("batch position path %q", b.Pos.Path)
		}
	}
}

// TestBigEventList: a line with more events than a batch holds is split;
// the batches before its last end before the line.
func TestBigEventList(t *testing.T) {
	ids := seq("i", 1200)
	data := lines(ev("first"), evList(ids...), ev("last"))
	p := writeFile(t, t.TempDir(), "a.log", data)
	// Window -1: the batches as the reader cuts them (a merge re-cuts them).
	res := run(t, &Replay{Paths: []string{p}, Window: -1})
	want := append(append([]string{"first"}, ids...), "last")
	if got := res.ids(); !eq(got, want) {
		t.Fatalf("got %d events", len(got))
	}
	var sizes []int
	var lns []int64
	for _, b := range res.batches {
		sizes = append(sizes, len(b.Events))
		lns = append(lns, b.Pos.Line)
	}
	if !eq(sizes, []int{1, 512, 512, 177}) || !eq(lns, []int64{1, 1, 1, 3}) {
		t.Errorf("batch sizes %v, lines %v", sizes, lns)
	}
}

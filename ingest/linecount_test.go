package ingest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// badLine is a malformed line: its problem says Malformed.
const badLine = `{"kind":"Event","auditID":`

// countedLog is a JSON-lines log whose bad lines are where line numbers
// are easy to get wrong when the chunks' newlines are counted by the
// workers and added up in order: runs of bad lines longer than a chunk
// reports one by one (summing records: "through line N"), bad lines at
// chunk ends and in later chunks, CRLF line ends, blank lines, lines too
// long for a chunk and lines of a megabyte (read past by the reader).
func countedLog(seed uint64, trailingNewline bool) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	var b bytes.Buffer
	for i := 0; i < 3000; i++ {
		switch r := rng.IntN(100); {
		case r < 55:
			b.WriteString(ev(fmt.Sprintf("id%d", i)))
		case r < 60:
			b.WriteString(ev(fmt.Sprintf("id%d", i)) + "\r")
		case r < 63:
			b.WriteString(" \r")
		case r < 70:
			b.WriteString(badLine + "\r")
		case r < 72:
			for k := range 5 + rng.IntN(40) { // a run, summed past 10 a chunk
				if k > 0 {
					b.WriteByte('\n')
				}
				b.WriteString(badLine)
				i++
			}
		case r < 74:
			b.WriteString(`{"x":"` + strings.Repeat("L", 5000+rng.IntN(3000)) + `"}`)
		case r == 74:
			b.WriteString(`{"x":"` + strings.Repeat("M", 1<<20+rng.IntN(1000)) + `"}`)
		default:
			b.WriteString(ev(fmt.Sprintf("id%d", i)))
		}
		if i < 2999 || trailingNewline {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// TestLineNumbersCounted: every problem names the line it is about,
// exactly, whatever the chunk size and however the chunks' lines were
// counted: a Malformed problem is on a bad line, a TooLong one on a long
// line; a summing record counts exactly the lines of its kind from its
// line through the line its message names; every bad line is counted
// once; batches' positions and the summary's lines are exact.
func TestLineNumbersCounted(t *testing.T) {
	const maxLine = 4096
	for _, tc := range []struct {
		seed     uint64
		trailing bool
		chunk    int
		window   int
		recycle  bool // the workers count the chunks' newlines (job.rel)
	}{
		{1, true, 4096, -1, true},
		{1, true, 5000, 0, true},
		{1, true, 4096, -1, false},
		{2, false, 64 << 10, -1, true},
		{2, false, defaultChunk, 0, true},
		{2, false, defaultChunk, 0, false},
		{3, true, 333, -1, true},
	} {
		t.Run(fmt.Sprintf("seed%d/chunk%d/window%d/recycle%v", tc.seed, tc.chunk, tc.window, tc.recycle), func(t *testing.T) {
			data := countedLog(tc.seed, tc.trailing)
			ls := bytes.Split(data, []byte{'\n'})
			if tc.trailing {
				ls = ls[:len(ls)-1]
			}
			kindOf := func(line int64) ProblemKind {
				l := ls[line-1]
				switch {
				case len(l) > maxLine:
					return TooLong
				case bytes.HasPrefix(l, []byte(badLine)):
					return Malformed
				}
				return NumProblemKinds // none
			}
			var wantCount [NumProblemKinds]int
			for i := range ls {
				if k := kindOf(int64(i + 1)); k < NumProblemKinds {
					wantCount[k]++
				}
			}
			if wantCount[TooLong] == 0 || wantCount[Malformed] < 100 {
				t.Fatalf("the log tests nothing: %v", wantCount)
			}
			p := writeFile(t, t.TempDir(), "a.log", string(data))
			r := &Replay{Paths: []string{p}, MaxLine: maxLine, chunk: tc.chunk, Workers: 2, Window: tc.window, Recycle: tc.recycle}
			var res result
			if tc.recycle {
				res = runCopied(t, r)
			} else {
				res = run(t, r)
			}
			if res.err != nil {
				t.Fatal(res.err)
			}
			var count [NumProblemKinds]int
			summed := 0
			for _, pr := range res.problems {
				if pr.Line < 1 || pr.Line > int64(len(ls)) || kindOf(pr.Line) != pr.Kind {
					t.Fatalf("%v: line %d is not a %s line", pr, pr.Line, pr.Kind)
				}
				count[pr.Kind] += pr.Count()
				if pr.More == 0 {
					continue
				}
				summed++
				var through int64
				if _, err := fmt.Sscanf(pr.Msg, fmt.Sprintf("%d more %s lines through line %%d", pr.More+1, pr.Kind), &through); err != nil {
					t.Fatalf("%v: %v", pr, err)
				}
				n := 0
				for l := pr.Line; l <= through; l++ {
					if kindOf(l) == pr.Kind {
						n++
					}
				}
				if kindOf(through) != pr.Kind || n != pr.Count() {
					t.Fatalf("%v: %d %s lines from %d through %d, the record counts %d", pr, n, pr.Kind, pr.Line, through, pr.Count())
				}
			}
			if count != wantCount || summed == 0 {
				t.Errorf("problems counted %v (%d summing records), want %v", count, summed, wantCount)
			}
			if res.sum.Lines != int64(len(ls)) {
				t.Errorf("summary: %d lines, want %d", res.sum.Lines, len(ls))
			}
			if tc.window < 0 {
				checkPositions(t, res.batches, data)
			}
		})
	}
}

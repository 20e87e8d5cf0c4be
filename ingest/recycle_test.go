package ingest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestRecycle runs TestChunkBoundaries' logs with Recycle set and an emit
// that keeps only copies, as the contract asks: reused buffers must not
// change what any event decoded to, however lines straddle chunks.
func TestRecycle(t *testing.T) {
	const maxLine = 1500
	dir := t.TempDir()
	logs := map[string][]byte{
		"nl.log":   mixedLog(150, 1, true),
		"nonl.log": mixedLog(150, 2, false),
	}
	for name, data := range logs {
		p := writeFile(t, dir, name, string(data))
		ref := reference(data, maxLine)
		for _, chunk := range []int{3, 64, 333, 4096, defaultChunk} {
			// Window -1 reads in order; 0 merges (one source), which holds
			// batches in its window and recycles a chunk's buffer and
			// event arrays only once all its events were handed on.
			for _, window := range []int{-1, 0} {
				t.Run(fmt.Sprintf("%s/chunk%d/window%d", name, chunk, window), func(t *testing.T) {
					t.Parallel()
					res := runCopied(t, &Replay{Paths: []string{p}, MaxLine: maxLine, chunk: chunk, Workers: 2, Window: window, Recycle: true})
					compare(t, res, ref, data)
				})
			}
		}
	}
}

// runCopied is run for a Recycle replay: emit copies each batch's events
// (the strings and bytes compare looks at) before the buffers are reused.
func runCopied(t *testing.T, r *Replay) result {
	t.Helper()
	var res result
	r.OnProblem = func(p Problem) { res.problems = append(res.problems, p) }
	res.sum, res.err = r.Run(context.Background(), func(b Batch) error {
		b.Events = slices.Clone(b.Events)
		for i := range b.Events {
			e := &b.Events[i]
			e.AuditID, e.Raw = strings.Clone(e.AuditID), bytes.Clone(e.Raw)
		}
		b.Offsets = slices.Clone(b.Offsets)
		res.batches = append(res.batches, b)
		return nil
	})
	checkRaw(t, res.batches)
	return res
}

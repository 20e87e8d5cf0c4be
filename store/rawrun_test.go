package store

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Runs hands over exactly the events Raw can read, each once, in order,
// with the same bytes: over every event, over sparse subsets (gaps a
// window skips), over a store whose oldest chunks retention dropped, and
// with two segments and stages that share their bytes (offsets that go
// back).
func TestRuns(t *testing.T) {
	s := newTestStore()
	evs, offs, raw := generated(t, 6*testChunk)
	s.Append(evs[:4*testChunk], raw, offs[:4*testChunk])
	more, moreOffs, moreRaw := genEvents(t, 2*testChunk)
	s.Append(more, moreRaw, moreOffs) // a second segment
	s.Append(evs[4*testChunk:], raw, offs[4*testChunk:])
	// Events larger than a window, between small ones.
	big := strings.Replace(event(id1, "ResponseComplete", "u", "create", "pods", "ns", 201, t0, t1), `"responseStatus"`,
		`"requestObject":{"data":"`+strings.Repeat("x", rawWindow+rawWindow/3)+`"},"responseStatus"`, 1)
	bevs, boffs, braw := decodeLines(t, event(id2, "ResponseComplete", "u", "get", "pods", "ns", 200, t0, t1), big,
		strings.Replace(big, id1, id3, 1), event("44444444-4444-4444-8444-444444444444", "ResponseComplete", "u", "get", "pods", "ns", 200, t0, t2))
	s.Append(bevs, braw, boffs)
	all := s.All().ToArray()
	r := rand.New(rand.NewPCG(1, 2))
	var sparse, random []ID
	for i, id := range all {
		if i%97 == 0 {
			sparse = append(sparse, id)
		}
		if r.IntN(3) == 0 {
			random = append(random, id)
		}
	}
	check := func(name string, ids []ID) {
		t.Helper()
		var want [][]byte
		var wantIDs []ID
		for _, id := range ids {
			if b, err := s.Raw(id, nil); err == nil {
				want, wantIDs = append(want, b), append(wantIDs, id)
			}
		}
		var gotIDs []ID
		windows, longest := 0, 0
		s.NewRawReader().Runs(ids, func(buf []byte, run []ID, spans []Span) bool {
			windows++
			last := 0
			for i, id := range run {
				sp := spans[i]
				if sp.Start < last || sp.End < sp.Start || sp.End > len(buf) {
					t.Fatalf("%s: span %v after %d in a window of %d", name, sp, last, len(buf))
				}
				last, longest = sp.End, max(longest, sp.End-sp.Start)
				k := len(gotIDs)
				if k >= len(want) || id != wantIDs[k] || !bytes.Equal(buf[sp.Start:sp.End], want[k]) {
					t.Fatalf("%s: event %d (#%d) is not the next readable one or its bytes differ", name, id, k)
				}
				gotIDs = append(gotIDs, id)
			}
			return true
		})
		if !slices.Equal(gotIDs, wantIDs) {
			t.Fatalf("%s: %d events, want %d", name, len(gotIDs), len(wantIDs))
		}
		if name == "all" && longest <= rawWindow {
			t.Errorf("%s: no event larger than a window came through (longest %d)", name, longest)
		}
		if len(wantIDs) > 100 && windows > len(wantIDs)/4 && name == "all" {
			t.Errorf("%s: %d windows for %d events: not reading whole windows", name, windows, len(wantIDs))
		}
	}
	check("all", all)
	check("sparse", sparse)
	check("random", random)
	check("none", nil)
	s.Retain(3*testChunk, 0)
	check("after retention", all)

	// fn returning false stops the walk.
	calls := 0
	s.NewRawReader().Runs(all, func([]byte, []ID, []Span) bool { calls++; return false })
	if calls != 1 {
		t.Errorf("%d calls after fn said stop", calls)
	}
}

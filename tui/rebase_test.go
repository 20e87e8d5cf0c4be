package tui

import (
	"context"
	"fmt"
	"testing"

	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
)

// After the store rebased its IDs (store.IDBase moved), the next
// computation starts afresh and equals one from scratch, even when the
// first kept ID happens to be what it was.
func TestComputeAfterRebase(t *testing.T) {
	st := store.New(store.ChunkEvents(64), store.IDSpace(1024))
	lines := stagedLines(9, 6000)
	appendBatch(t, st, lines[:200])
	f, _ := query.Compile("")
	r := compute(context.Background(), st, nil, f, 1, 1, 40)().(resultMsg)
	for i := 200; i < len(lines) && st.RebaseStats().Rebases < 2; i += 100 {
		appendBatch(t, st, lines[i:i+100])
		st.Retain(300, 0)
	}
	if st.IDBase() == 0 {
		t.Fatal("no rebase")
	}
	after := compute(context.Background(), st, r.live, f, 1, 2, 40)().(resultMsg)
	scratch := compute(context.Background(), st, nil, f, 1, 3, 40)().(resultMsg)
	if !after.rebuilt {
		t.Error("the computation after a rebase folded into state of the old IDs")
	}
	if fmt.Sprint(after.table.Rows) != fmt.Sprint(scratch.table.Rows) || !after.set.Equals(scratch.set) {
		t.Errorf("after a rebase the Users tab differs from a fresh build:\n%v\n%v", after.table.Rows, scratch.table.Rows)
	}
}

// A store whose IDs ran out without retention refuses events: the header
// counts them.
func TestComputeCountsRefused(t *testing.T) {
	st := store.New(store.IDSpace(100))
	appendBatch(t, st, stagedLines(9, 300))
	f, _ := query.Compile("")
	r := compute(context.Background(), st, nil, f, 1, 1, 40)().(resultMsg)
	if r.refused == 0 || r.events != 100 {
		t.Fatalf("refused %d, kept %d events", r.refused, r.events)
	}
}

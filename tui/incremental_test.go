package tui

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

// stagedLines is n generated events as lines in arrival order, half of the
// requests with a RequestReceived stage first and the final stage a few
// events later, so that later stages replace earlier ones in the store's
// requests (as in a real log).
func stagedLines(seed uint64, n int) [][]byte {
	g := gen.New(gen.Config{Seed: seed})
	rng := rand.New(rand.NewPCG(seed, 1))
	var out, held [][]byte
	for range n {
		line := bytes.TrimRight(g.Next(nil), "\n")
		if rng.IntN(2) == 0 {
			out = append(out, bytes.Replace(line, []byte(`"stage":"ResponseComplete"`), []byte(`"stage":"RequestReceived"`), 1))
			held = append(held, line)
		} else {
			out = append(out, line)
		}
		if len(held) > 0 && rng.IntN(3) == 0 {
			out, held = append(out, held[0]), held[1:]
		}
	}
	return append(out, held...)
}

func appendBatch(tb testing.TB, st *store.Store, lines [][]byte) {
	tb.Helper()
	var buf []byte
	var starts []int
	for _, l := range lines {
		starts = append(starts, len(buf))
		buf = append(append(buf, l...), '\n')
	}
	appendLines(tb, st, buf, starts)
}

// TestIncrementalMatchesScratch appends events in random batches and
// applies each batch incrementally (the filter evaluated on the new
// requests only, the aggregates folded), as the live UI does; after every
// batch the kept set and every grouped tab equal a computation from
// scratch, for several filters.
func TestIncrementalMatchesScratch(t *testing.T) {
	lines := stagedLines(11, 1500)
	for _, text := range []string{"", "-user:system:* denied", `.objectRef.namespace == "kube-system" or .responseStatus.code >= 400`} {
		t.Run(text, func(t *testing.T) {
			f, err := query.Compile(text)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			st := store.New()
			var lv *liveState
			replaced := false
			for i := 0; i < len(lines); {
				n := min(len(lines)-i, 1+rng.IntN(400))
				before := st.Requests()
				appendBatch(t, st, lines[i:i+n])
				i += n
				after := st.Requests()
				before.AndNot(after)
				replaced = replaced || !before.IsEmpty()
				for tab := range tabs {
					r := compute(context.Background(), st, lv, f, tab, 1, 40)().(resultMsg)
					if r.err != nil {
						t.Fatal(r.err)
					}
					lv = r.live
					want := compute(context.Background(), st, nil, f, tab, 1, 40)().(resultMsg)
					if !r.set.Equals(want.set) {
						t.Fatalf("after %d lines, tab %s: %d kept, from scratch %d", i, tabs[tab].name, r.set.GetCardinality(), want.set.GetCardinality())
					}
					if !reflect.DeepEqual(r.table, want.table) || !reflect.DeepEqual(r.spark, want.spark) {
						t.Fatalf("after %d lines, tab %s differs from scratch", i, tabs[tab].name)
					}
					if r.rebuilt && i > n {
						t.Fatalf("after %d lines, tab %s: rebuilt from scratch", i, tabs[tab].name)
					}
				}
			}
			if !replaced {
				t.Fatal("no request was replaced by a later stage")
			}
			if lv.kept.IsEmpty() {
				t.Fatal("the filter keeps nothing: the test tests little")
			}
		})
	}
}

// A new filter starts afresh; the same filter folds in.
func TestComputeRebuildsOnlyForNewFilter(t *testing.T) {
	st := genStore(t, 300)
	f, _ := query.Compile("verb:get")
	r := compute(context.Background(), st, nil, f, 1, 1, 40)().(resultMsg)
	if !r.rebuilt {
		t.Fatal("first computation not from scratch")
	}
	r = compute(context.Background(), st, r.live, f, 1, 2, 40)().(resultMsg)
	if r.rebuilt {
		t.Fatal("same filter and tab rebuilt")
	}
	g, _ := query.Compile("verb:get")
	if r = compute(context.Background(), st, r.live, g, 1, 3, 40)().(resultMsg); !r.rebuilt {
		t.Fatal("a new filter reused the old one's state")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r = compute(ctx, st, nil, f, 2, 4, 40)().(resultMsg); r.err == nil {
		t.Fatal("a cancelled computation reported no error")
	}
}

// Retention dropped the oldest chunks: the next computation starts afresh
// (the aggregates cannot take out rows that are gone) and equals one from
// scratch; the header counts the kept and the evicted events.
func TestComputeAfterRetention(t *testing.T) {
	st := genStore(t, 2<<16+500)
	f, _ := query.Compile("")
	r := compute(context.Background(), st, nil, f, 1, 1, 40)().(resultMsg)
	dropped := st.Retain(1, 0)
	if dropped != 2<<16 {
		t.Fatalf("Retain dropped %d", dropped)
	}
	after := compute(context.Background(), st, r.live, f, 1, 2, 40)().(resultMsg)
	scratch := compute(context.Background(), st, nil, f, 1, 3, 40)().(resultMsg)
	if !after.rebuilt {
		t.Error("the computation after a drop folded into aggregates that hold dropped rows")
	}
	if fmt.Sprint(after.table.Rows) != fmt.Sprint(scratch.table.Rows) || !after.set.Equals(scratch.set) {
		t.Errorf("after retention the Users tab differs from a fresh build:\n%v\n%v", after.table.Rows, scratch.table.Rows)
	}
	if after.events != 500 || after.evicted != 2<<16 {
		t.Errorf("header counts %d events, %d evicted; want 500 and %d", after.events, after.evicted, 2<<16)
	}
}

// A rebuild split in two halves on two goroutines writes the same tables
// as one on a single goroutine, for every tab.
func TestRebuildParallel(t *testing.T) {
	defer func(n uint64) { parallelRebuildMin = n }(parallelRebuildMin)
	parallelRebuildMin = 2
	st := store.New()
	appendBatch(t, st, stagedLines(5, 3000))
	req := st.Requests()
	for _, tb := range tabs {
		if tb.view == views.ViewEvents || tb.view == viewDetections {
			continue
		}
		whole, err := rebuildPart(context.Background(), st, tb.view, req)
		if err != nil {
			t.Fatal(err)
		}
		split, err := rebuild(context.Background(), st, tb.view, req)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := split.Table(), whole.Table(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: split rebuild differs:\n got %v\nwant %v", tb.view, got.Rows, want.Rows)
		}
	}
}

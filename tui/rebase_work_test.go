package tui

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kaudit/kaudit/store"
)

// The background work of the browser across a store rebase (see
// rebase_model_test.go for the rebaser): finds, the P simulation, what
// cmd/kaudit wires in, w, and reads beside a writer that rebases.

// P after a rebase simulates the result's requests, not the events their
// old IDs now name.
func TestPolicyAcrossRebase(t *testing.T) {
	r := newRebaser(t, 600)
	var got []string
	policy := func(_ context.Context, st *store.Store, set *store.Set) (string, error) {
		got = got[:0]
		st.Each(set, func(e *store.Entry) bool { got = append(got, e.AuditID); return true })
		return "ok", nil
	}
	m := New(Options{Store: r.st, Now: fixedNow, Policy: policy})
	m = run(t, m, m.Init())
	var want []string
	it := m.res.set.Iterator()
	var ids []store.ID
	for it.HasNext() {
		ids = append(ids, it.Next())
	}
	r.rebase(t)
	for _, id := range ids {
		if kept(r.st, id, 0) {
			// The auditID as a fresh read of the lines would give it.
			want = append(want, r.st.Entry(store.ID(uint64(id)-r.st.IDBase())).AuditID)
		}
	}
	m = drive(t, m, keys("P")...)
	if m.over.pane != panePolicy {
		t.Fatal("no simulation")
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || len(want) == 0 {
		t.Fatalf("simulated %d requests %v…, want %d %v…", len(got), got[:min(3, len(got))], len(want), want[:min(3, len(want))])
	}
}

// A find after a rebase, before the next result, finds the rows' own
// events, and its jump lands on one of them.
func TestFindAcrossRebase(t *testing.T) {
	r := newRebaser(t, 600)
	m := started(t, r.st, 120, 40)
	r.rebase(t)
	er := m.rows().(eventRows)
	cur := r.st.IDBase()
	hits, err := findEvents(context.Background(), r.st, moveSet(er.set, er.base, cur), "Forbidden", nil)
	if err != nil || hits.IsEmpty() {
		t.Fatalf("no events to find (%v)", err)
	}
	want := moveSet(hits, cur, er.base)
	m = drive(t, m, keys("g", "F")...)
	m = drive(t, m, typed("Forbidden")...)
	m = drive(t, m, keys("enter")...)
	if m.find.hits == nil || !m.find.hits.Equals(want) {
		t.Fatalf("find after a rebase: %v, want %v", m.find.hits, want)
	}
	if id, _ := er.id(m.cursor()); !want.Contains(id) {
		t.Errorf("the jump landed on row %d, not a match", m.cursor())
	}
}

// What cmd/kaudit wires in (P's simulation, the Denials tab's findings
// and suggestion) runs beside the writer: a rebase while it runs makes it
// run again, over the requests moved, so that what it reports was read in
// one ID base.
func TestCallbacksAcrossRebase(t *testing.T) {
	r := newRebaser(t, 600)
	var sims [][]string
	policy := func(_ context.Context, st *store.Store, set *store.Set) (string, error) {
		var got []string
		st.Each(set, func(e *store.Entry) bool { got = append(got, e.AuditID); return true })
		sims = append(sims, got)
		if len(sims) == 1 {
			r.rebase(t) // the writer, while the first simulation runs
		}
		return "ok", nil
	}
	revoked := 0
	m := New(Options{Store: r.st, Now: fixedNow, Policy: policy, View: "denials",
		Suggest: func([]DenialKey) (string, []string) { return "", nil },
		Revoked: func() map[DenialKey]string {
			if revoked++; revoked == 1 {
				r.rebase(t)
			}
			return nil
		}})
	m = run(t, m, m.Init())
	if revoked != 2 {
		t.Errorf("the findings ran %d times across a rebase, want 2", revoked)
	}
	m = drive(t, m, keys("1")...) // Events: the requests
	var ids []store.ID
	for it := m.res.set.Iterator(); it.HasNext(); {
		ids = append(ids, it.Next())
	}
	base := r.st.IDBase()
	m = drive(t, m, keys("P")...)
	var want []string
	for _, id := range ids {
		if kept(r.st, id, base) {
			want = append(want, r.st.Entry(store.ID(uint64(id)+base-r.st.IDBase())).AuditID)
		}
	}
	if len(sims) != 2 || strings.Join(sims[1], ",") != strings.Join(want, ",") || len(want) == 0 {
		t.Fatalf("%d simulations; the last over %d requests, want %d", len(sims), len(sims[len(sims)-1]), len(want))
	}
}

// w after a rebase, before the next result, writes the result's events.
func TestWriteAcrossRebase(t *testing.T) {
	r := newRebaser(t, 600)
	m := started(t, r.st, 120, 40)
	m.env.dir = t.TempDir()
	want := auditIDs(t, m)
	er := m.rows().(eventRows)
	r.rebase(t)
	stored := want[:0]
	for i, a := range want {
		if id, _ := er.id(i); kept(r.st, id, 0) {
			stored = append(stored, a)
		}
	}
	m = drive(t, m, keys("w")...)
	files, _ := filepath.Glob(filepath.Join(m.env.dir, "kaudit-selection-*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("wrote %v (%s)", files, m.status.note)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
		var ev struct{ AuditID string }
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.AuditID)
	}
	if len(stored) == 0 || strings.Join(got, ",") != strings.Join(stored, ",") {
		t.Fatalf("wrote %d events %v…, want %d %v…", len(got), got[:min(3, len(got))], len(stored), stored[:min(3, len(stored))])
	}
}

// A find's verdicts on redaction are of one ID base: a cache of an older
// base is not read, and what a find of an older base learnt is not added.
func TestShownCacheBase(t *testing.T) {
	c := (*shownCache)(nil).with([]uint32{1, 2}, 5)
	if !c.in(5).has(1) || c.in(6) != nil || c.in(4) != nil {
		t.Fatal("a cache read in another base")
	}
	if c.with([]uint32{3}, 4) != c {
		t.Fatal("an older find's verdicts were added")
	}
	n := c.with([]uint32{3}, 6)
	if n.base != 6 || n.has(1) || !n.has(3) {
		t.Fatal("a newer find's verdicts were merged with an older base's")
	}
}

// Pages and rows read while the writer rebases the store again and again
// (about every 300 events) are each the event they were asked for, or say
// it is gone; -race checks the reads beside the writer.
func TestPagesWhileRebasing(t *testing.T) {
	r := newRebaser(t, 600)
	m := started(t, r.st, 120, 40)
	er := m.rows().(eventRows)
	rows, _ := er.Window(0, er.Len(), m.timeFormat()) // the held result's rows
	// The auditID of each event by its place among all events appended
	// (ID base + ID), recorded by the writer, which alone changes the
	// store, before each Retain.
	var mu sync.Mutex
	var places []string
	record := func() {
		mu.Lock()
		defer mu.Unlock()
		base := r.st.IDBase()
		for p := uint64(len(places)); p < base+uint64(r.st.Len()); p++ {
			places = append(places, r.st.Entry(store.ID(p-base)).AuditID)
		}
	}
	placeOf := func(p uint64) (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		if p < uint64(len(places)) {
			return places[p], true
		}
		return "", false
	}
	record()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := r.next; i+50 <= len(r.lines); i += 50 {
			appendBatch(t, r.st, r.lines[i:i+50])
			record()
			r.st.Retain(700, 0)
		}
	}()
	checked, gone := 0, 0
	for running := true; running; checked++ {
		select {
		case <-done:
			running = false
		default:
		}
		// A recent event, as a reader holding it would: its ID and the
		// base then. The store may rebase at any moment after.
		base, n := r.st.IDBase(), r.st.Len()
		id := store.ID(max(0, n-1-checked%300))
		want, ok := placeOf(base + uint64(id))
		if !ok {
			continue
		}
		msg := loadDetail(r.st, eventRef{id, base}, m.timeFormat())().(detailMsg)
		switch {
		case msg.title == goneTitle:
			gone++
		case !strings.Contains(msg.body, "auditID "+want+"\n"):
			t.Fatalf("place %d: the page of another event than %s:\n%.200s", base+uint64(id), want, msg.body)
		}
		from := (len(rows) - 20 - checked%100) % len(rows)
		cells, _ := er.Window(from, 20, m.timeFormat())
		for i, c := range cells {
			if c[1] != "(gone)" && strings.Join(c, "|") != strings.Join(rows[from+i], "|") {
				t.Fatalf("row %d: %q, was %q", from+i, c, rows[from+i])
			}
		}
	}
	if st := r.st.RebaseStats(); st.Rebases < 10 || checked == gone {
		t.Fatalf("%d rebases, %d pages read, %d gone: the test shows little", st.Rebases, checked, gone)
	}
}

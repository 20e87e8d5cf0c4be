package detect

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/internal/testcpu"
	"github.com/kaudit/kaudit/store"
)

// A Labeler fed batches of 7 events names on each event exactly the
// rules a Live over the whole stream reports for it (thresholds
// included), so forwarded records and the UI agree.
func TestLabelerAgreesWithLive(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	newEngine := func() *Engine {
		e, err := NewEngine(set, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	var b ingest.Batch
	r := &ingest.Replay{Paths: []string{"testdata/handmade/events.jsonl"}}
	if _, err := r.Run(context.Background(), func(x ingest.Batch) error {
		if b.Raw != nil {
			t.Fatal("the fixture came in more than one batch")
		}
		b = x
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	key := func(e *audit.Event, rule string) string { return e.AuditID + "/" + e.Stage.String() + "/" + rule }

	st := store.New()
	live := newEngine().Live(st)
	var want []string
	for i := 0; i < len(b.Events); i += 7 {
		j := min(i+7, len(b.Events))
		st.Append(b.Events[i:j], b.Raw, b.Offsets[i:j])
		hits, err := live.Eval(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			e := st.Entry(h.ID)
			want = append(want, string(e.AuditID)+"/"+e.Stage.String()+"/"+h.Rule.Name)
		}
	}

	lab := newEngine().Labeler()
	var got []string
	for i := 0; i < len(b.Events); i += 7 {
		j := min(i+7, len(b.Events))
		names, err := lab.Label(context.Background(), b.Events[i:j], b.Raw, b.Offsets[i:j])
		if err != nil {
			t.Fatal(err)
		}
		if len(names) != j-i {
			t.Fatalf("%d labels for %d events", len(names), j-i)
		}
		for k, ns := range names {
			for _, n := range ns {
				got = append(got, key(&b.Events[i+k], n))
			}
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if len(want) < 10 || !slices.Equal(got, want) {
		t.Errorf("labels differ from live hits (%d vs %d):\n got %v\nwant %v", len(got), len(want), got, want)
	}
}

// BenchmarkLabeler is what labelling forwarded records adds to a sink's
// reader: a replay of the generated log as the reader reads it (batches
// from ingest), alone and with every batch labelled. x-read is the ratio
// of the CPU times (process user+system, so that a busy machine's waiting
// is not counted).
//
//	KAUDIT_BENCH_EVENTS=200000 go test -run X -bench Labeler -benchtime 3x ./detect
func BenchmarkLabeler(b *testing.B) {
	path := genLog(b, benchEvents())
	set, err := Builtin()
	if err != nil {
		b.Fatal(err)
	}
	var read, labelled time.Duration
	for b.Loop() {
		t0 := testcpu.Time()
		if _, err := (&ingest.Replay{Paths: []string{path}}).Run(context.Background(), func(ingest.Batch) error { return nil }); err != nil {
			b.Fatal(err)
		}
		t1 := testcpu.Time()
		eng, err := NewEngine(set, Options{})
		if err != nil {
			b.Fatal(err)
		}
		l := eng.Labeler()
		if _, err := (&ingest.Replay{Paths: []string{path}}).Run(context.Background(), func(bt ingest.Batch) error {
			_, err := l.Label(context.Background(), bt.Events, bt.Raw, bt.Offsets)
			return err
		}); err != nil {
			b.Fatal(err)
		}
		read += t1 - t0
		labelled += testcpu.Time() - t1
	}
	b.ReportMetric(read.Seconds()/float64(b.N), "cpu-read-s/op")
	b.ReportMetric(labelled.Seconds()/float64(b.N), "cpu-read+label-s/op")
	b.ReportMetric(float64(labelled)/float64(read), "x-read")
}

// A batch that repeats events (a re-read file, a retried forward) labels
// each first copy as a clean batch does and the repeats with nothing, as
// the store keeps one copy.
func TestLabelerDuplicates(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var b ingest.Batch
	r := &ingest.Replay{Paths: []string{"testdata/handmade/events.jsonl"}}
	if _, err := r.Run(context.Background(), func(x ingest.Batch) error { b = x; return nil }); err != nil {
		t.Fatal(err)
	}
	label := func(evs []audit.Event, offs []int64) [][]string {
		e, err := NewEngine(set, Options{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.Labeler().Label(context.Background(), evs, b.Raw, offs)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := label(b.Events, b.Offsets)
	var evs []audit.Event
	var offs []int64
	for i := range b.Events { // every event twice, every third thrice
		for range 2 + min(1, i%3/2) {
			evs = append(evs, b.Events[i])
			offs = append(offs, b.Offsets[i])
		}
	}
	got := label(evs, offs)
	hits, k := 0, 0
	for i := range b.Events {
		if !slices.Equal(got[k], want[i]) {
			t.Errorf("event %d (%s %s): got %v, want %v", i, b.Events[i].AuditID, b.Events[i].Stage, got[k], want[i])
		}
		hits += len(want[i])
		for k++; k < len(evs) && k > 0 && offs[k] == b.Offsets[i]; k++ {
			if got[k] != nil {
				t.Errorf("repeat of event %d labelled %v", i, got[k])
			}
		}
	}
	if hits < 10 {
		t.Errorf("only %d labels on the fixture", hits)
	}
}

package store

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/internal/testcpu"
)

// benchEvents decodes n events made from the real AKS fixture lines, each
// with its own auditID and a user from a skewed set, so interning and
// postings see realistic cardinalities.
func benchEvents(b *testing.B, n int) ([]audit.Event, []int64, *bytes.Reader) {
	b.Helper()
	data, err := os.ReadFile("../testdata/public/sysdig-aks-eventhubs-records.unwrapped.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	templates := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	var buf bytes.Buffer
	var starts []int
	for i := 0; i < n; i++ {
		line := templates[i%len(templates)]
		// Replace the auditID value (36 chars after "auditID":") with a unique UUID.
		at := bytes.Index(line, []byte(`"auditID":"`)) + len(`"auditID":"`)
		starts = append(starts, buf.Len())
		buf.Write(line[:at])
		fmt.Fprintf(&buf, "%08x-0000-4000-8000-%012x", i, i%(1+i%97))
		buf.Write(line[at+36:])
		buf.WriteByte('\n')
	}
	all := buf.Bytes()
	evs := make([]audit.Event, 0, n)
	offs := make([]int64, 0, n)
	for i, start := range starts {
		end := len(all) - 1
		if i+1 < len(starts) {
			end = starts[i+1] - 1
		}
		line := all[start:end]
		k := len(evs)
		if evs, err = audit.Decode(line, evs); err != nil {
			b.Fatal(err)
		}
		for _, e := range evs[k:] {
			offs = append(offs, int64(start+cap(line)-cap(e.Raw)))
		}
	}
	return evs, offs, bytes.NewReader(all)
}

// genEvents decodes n events from the realistic generator.
func genEvents(b testing.TB, n int) ([]audit.Event, []int64, *bytes.Reader) {
	b.Helper()
	g := gen.New(gen.Config{Seed: 1})
	var all []byte
	starts := make([]int, n)
	for i := range starts {
		starts[i] = len(all)
		all = g.Next(all)
	}
	evs := make([]audit.Event, 0, n)
	offs := make([]int64, 0, n)
	for i, start := range starts {
		end := len(all) - 1
		if i+1 < n {
			end = starts[i+1] - 1
		}
		line := all[start:end]
		k := len(evs)
		var err error
		if evs, err = audit.Decode(line, evs); err != nil {
			b.Fatal(err)
		}
		for _, e := range evs[k:] {
			offs = append(offs, int64(start+cap(line)-cap(e.Raw)))
		}
	}
	return evs, offs, bytes.NewReader(all)
}

// BenchmarkAppendGenerated is BenchmarkAppend over a million events of the
// realistic generator (the 1 GiB benchmark log's first 1.2 GB).
func BenchmarkAppendGenerated(b *testing.B) {
	evs, offs, raw := genEvents(b, 1<<20)
	benchmarkAppend(b, evs, offs, raw)
}

// BenchmarkAppend measures the single writer's cost per event and the
// store's resident bytes per event (heap growth after a GC, divided by
// events).
func BenchmarkAppend(b *testing.B) {
	evs, offs, raw := benchEvents(b, 200_000)
	benchmarkAppend(b, evs, offs, raw)
}

func benchmarkAppend(b *testing.B, evs []audit.Event, offs []int64, raw *bytes.Reader) {
	n := len(evs)
	b.ResetTimer()
	var perEvent float64
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		s := New()
		for i := 0; i < n; i += 512 {
			j := min(i+512, n)
			s.Append(evs[i:j], raw, offs[i:j])
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		perEvent = float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
		runtime.KeepAlive(s)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/event")
	b.ReportMetric(perEvent, "heap-bytes/event")
}

// BenchmarkStages splits Append's CPU per event (process CPU time, which a
// busy machine inflates far less than wall time) into its stages, each
// run alone on one goroutine over 256k generated events, a batch of 512
// at a time as the pipeline appends: intern (every string column into its
// dictionary), place (dedup, stage pairing, fixed columns), columns (the
// string IDs written into the chunks) and postings (every list). In
// "keys", each batch's keys are prepared (Prepare, which the decode
// workers run) two batches ahead of its append, and intern and place read
// them: prepare reads events decoded long before, where a worker reads
// them right after decoding, so it is the cold figure.
func BenchmarkStages(b *testing.B) {
	evs, offs, raw := genEvents(b, 1<<18)
	b.Run("events", func(b *testing.B) { benchmarkStages(b, evs, offs, raw, false) })
	b.Run("keys", func(b *testing.B) { benchmarkStages(b, evs, offs, raw, true) })
}

func benchmarkStages(b *testing.B, evs []audit.Event, offs []int64, raw *bytes.Reader, withKeys bool) {
	n := len(evs)
	var keys []audit.Keys
	if withKeys {
		keys = make([]audit.Keys, n)
	}
	var prepare, intern, place, cols, post time.Duration
	for b.Loop() {
		s := New()
		seg := s.segment(raw)
		prepared := 0
		for i := 0; i < n; i += 512 {
			j := min(i+512, n)
			var ks []audit.Keys
			if withKeys {
				t := testcpu.Time()
				for ; prepared < min(j+1024, n); prepared += 512 {
					k := min(prepared+512, n)
					s.Prepare(evs[prepared:k], keys[prepared:k])
				}
				prepare += testcpu.Time() - t
				ks = keys[i:j]
			}
			batch := s.batch.reset(j - i)
			from := s.n
			t0 := testcpu.Time()
			s.internAll(evs[i:j], ks, batch)
			t1 := testcpu.Time()
			s.placeAll(evs[i:j], ks, offs[i:j], seg, batch)
			t2 := testcpu.Time()
			s.writeStrCols(batch)
			t3 := testcpu.Time()
			if s.n > from {
				s.postDicts(batch)
				s.postOthers(batch)
			}
			t4 := testcpu.Time()
			intern, place, cols, post = intern+t1-t0, place+t2-t1, cols+t3-t2, post+t4-t3
			s.refreshKeys(false)
		}
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) / float64(n) }
	b.ReportMetric(per(intern), "intern-ns/event")
	b.ReportMetric(per(place), "place-ns/event")
	b.ReportMetric(per(cols), "columns-ns/event")
	b.ReportMetric(per(post), "postings-ns/event")
	if withKeys {
		b.ReportMetric(per(prepare), "prepare-ns/event")
	}
}

// BenchmarkPrepare measures Prepare as a decode worker runs it: over
// chunks of 880 events (a 1 MiB chunk of the benchmark log) in cache
// (each chunk is read once before it is timed), against the dictionaries
// of a store that holds them all.
func BenchmarkPrepare(b *testing.B) {
	evs, offs, raw := genEvents(b, 1<<16)
	s := New(LazyPostings())
	keys := make([]audit.Keys, len(evs))
	s.Prepare(evs[:1], keys[:1])
	s.AppendKeys(evs, nil, raw, offs)
	const chunk = 880
	var took time.Duration
	n := 0
	for b.Loop() {
		for i := 0; i+chunk <= len(evs); i += chunk {
			s.Prepare(evs[i:i+chunk], keys[i:i+chunk])
			t0 := testcpu.Time()
			s.Prepare(evs[i:i+chunk], keys[i:i+chunk])
			took += testcpu.Time() - t0
			n += chunk
		}
	}
	b.ReportMetric(float64(took.Nanoseconds())/float64(n), "ns/event")
}

// BenchmarkAppendKeys measures the writer as headless replay runs it: a
// store without postings (LazyPostings) sized for its events
// (ExpectEvents), fed batches of 512 events with their keys, each batch's
// keys prepared (not timed) two batches ahead of its append, as the decode
// workers run ahead of the writer. CPU time per event, both of
// AppendKeys' goroutines.
func BenchmarkAppendKeys(b *testing.B) {
	evs, offs, raw := genEvents(b, 1<<18)
	n := len(evs)
	keys := make([]audit.Keys, n)
	var took time.Duration
	for b.Loop() {
		s := New(LazyPostings(), ExpectEvents(n))
		s.Prepare(evs[:0], keys[:0])
		runtime.GC()
		prepared := 0
		for i := 0; i < n; i += 512 {
			j := min(i+512, n)
			for ; prepared < min(j+1024, n); prepared += 512 {
				k := min(prepared+512, n)
				s.Prepare(evs[prepared:k], keys[prepared:k])
			}
			t0 := testcpu.Time()
			s.AppendKeys(evs[i:j], keys[i:j], raw, offs[i:j])
			took += testcpu.Time() - t0
		}
	}
	b.ReportMetric(float64(took.Nanoseconds())/float64(b.N)/float64(n), "ns/event")
}

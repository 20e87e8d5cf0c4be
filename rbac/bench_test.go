package rbac

import (
	"bytes"
	"testing"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/store"
)

// BenchmarkAnalyzeSuggest: the whole kaudit rbac path after loading, over
// generated traffic (about 2% denials).
func BenchmarkAnalyzeSuggest(b *testing.B) {
	const n = 200_000
	st := store.New()
	g := gen.New(gen.Config{Seed: 7})
	var buf []byte
	var starts []int
	for range n {
		starts = append(starts, len(buf))
		buf = g.Next(buf)
	}
	var evs []audit.Event
	var offs []int64
	for i, start := range starts {
		end := len(buf)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		line := bytes.TrimRight(buf[start:end], "\n")
		k := len(evs)
		var err error
		if evs, err = audit.Decode(line, evs); err != nil {
			b.Fatal(err)
		}
		for _, e := range evs[k:] {
			offs = append(offs, int64(start+cap(line)-cap(e.Raw)))
		}
	}
	st.Append(evs, bytes.NewReader(buf), offs)
	b.ResetTimer()
	var denials, objects int
	for b.Loop() {
		a := Analyze(st, st.Requests())
		s := Suggest(a.Denials, Options{IncludeRisky: true})
		if err := s.WriteYAML(&bytes.Buffer{}); err != nil {
			b.Fatal(err)
		}
		denials, objects = len(a.Denials), len(s.Objects)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(denials), "denials")
	b.ReportMetric(float64(objects), "objects")
}

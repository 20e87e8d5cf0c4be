package audit

import (
	"bytes"
	"encoding/json"
	"os"
	"runtime"
	"slices"
	"testing"

	"github.com/kaudit/kaudit/gen"
)

type decodeFunc func([]byte, []Event) ([]Event, error)

var decoders = []struct {
	name string
	fn   decodeFunc
}{{"fast", decodeFast}, {"std", decodeStd}}

// benchDocs are the benchmark inputs: each a list of documents decoded in
// turn, as the replay reader hands them over.
func benchDocs(b *testing.B) []struct {
	name string
	docs [][]byte
} {
	b.Helper()
	read := func(name string) []byte {
		data, err := os.ReadFile("../testdata/public/" + name)
		if err != nil {
			b.Fatal(err)
		}
		return data
	}
	lines := func(name string) [][]byte {
		var docs [][]byte
		for line := range bytes.Lines(read(name)) {
			docs = append(docs, bytes.TrimSuffix(line, []byte("\n")))
		}
		return docs
	}
	// A typical Metadata event: the longest (990 B) of a real AKS cluster's.
	sysdig := lines("sysdig-aks-eventhubs-records.unwrapped.jsonl")
	metadata := slices.MaxFunc(sysdig, func(a, b []byte) int { return len(a) - len(b) })
	// A RequestResponse update with the full object twice (15 KB), as one line.
	var body bytes.Buffer
	if err := json.Compact(&body, bytes.TrimPrefix(read("sysdig-aks-requestresponse-event-bom-pretty.json"), bom)); err != nil {
		b.Fatal(err)
	}
	return []struct {
		name string
		docs [][]byte
	}{
		{"metadata", [][]byte{metadata}},
		{"requestresponse", [][]byte{body.Bytes()}},
		{"file-sysdig", sysdig},                                    // 22 Metadata and Request events
		{"file-falco", lines("falco-trace-files-k8s_audit.jsonl")}, // 51 events, most with bodies
		{"file-panther-eks", lines("panther-eks-audit.jsonl")},     // 188 small events
		{"generated", generated(20000)},                            // scripts/bench.sh's log: ~1,190 B per event
	}
}

// generated returns the first n events of the benchmark log that
// scripts/bench.sh generates (gen, seed 1), one document each.
func generated(n int) [][]byte {
	g := gen.New(gen.Config{Seed: 1})
	docs := make([][]byte, n)
	for i := range docs {
		docs[i] = bytes.TrimSuffix(g.Next(nil), []byte("\n"))
	}
	return docs
}

// BenchmarkDecode decodes realistic inputs with the fast decoder and with
// the encoding/json reference, so that the ratio is visible side by side.
func BenchmarkDecode(b *testing.B) {
	for _, in := range benchDocs(b) {
		size, events := 0, 0
		for _, doc := range in.docs {
			size += len(doc)
			evs, _ := decodeFast(doc, nil)
			events += len(evs)
		}
		for _, dec := range decoders {
			b.Run(in.name+"/"+dec.name, func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				mallocs := ms.Mallocs
				evs := make([]Event, 0, events)
				n := 0
				for b.Loop() {
					for _, doc := range in.docs {
						evs, _ = dec.fn(doc, evs[:0])
					}
					n++
				}
				runtime.ReadMemStats(&ms)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*events), "ns/event")
				b.ReportMetric(float64(ms.Mallocs-mallocs)/float64(n*events), "allocs/event")
			})
		}
	}
}

// BenchmarkSkip measures the validating skip alone over a large body, the
// bulk of a RequestResponse line.
func BenchmarkSkip(b *testing.B) {
	doc := bytes.TrimPrefix(readFixture(b, "sysdig-aks-requestresponse-event-bom-pretty.json"), bom)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		d := decoder{data: doc}
		d.ws()
		d.skipValue()
		if d.err != nil {
			b.Fatal(d.err)
		}
	}
}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile("../testdata/public/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

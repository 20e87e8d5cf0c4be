package cloud

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// streamAll reads data through a Stream with the given window, one byte
// per read when slow, and gives back the output and the problems.
func streamAll(t testing.TB, data []byte, window, limit, bigLine int, slow bool) ([]byte, []Problem, [NumKinds]int) {
	var r io.Reader = bytes.NewReader(data)
	if slow {
		r = iotest.OneByteReader(r)
	}
	s := newStream(r, window, limit, bigLine)
	var out bytes.Buffer
	var probs []Problem
	buf := make([]byte, 4096)
	for {
		n, err := s.Read(buf)
		out.Write(buf[:n])
		probs = append(probs, s.Problems()...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes(), probs, s.Counts()
}

func inputLines(data []byte) int64 {
	n := int64(bytes.Count(data, []byte{'\n'}))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	return n
}

// checkStream: a Stream with a tiny window that grows gives what Decode
// gives on the whole input: the same lines, problems and counts.
func checkStream(t *testing.T, data []byte) {
	res := Decode(data)
	want := Lines(res, inputLines(data))
	for _, slow := range []bool{false, true} {
		out, probs, counts := streamAll(t, data, 16, 1<<30, 1<<30, slow)
		if !bytes.Equal(out, want) {
			t.Fatalf("slow %v: stream output differs from Decode's:\n%q\nwant\n%q", slow, out, want)
		}
		if !slices.Equal(probs, res.Problems) || counts != res.Counts {
			t.Fatalf("slow %v: problems differ:\n%v\nwant\n%v", slow, probs, res.Problems)
		}
	}
}

func FuzzStream(f *testing.F) {
	seed(f, "*")
	f.Fuzz(checkStream)
}

// TestStreamBigLines: values longer than bigLine are read a value at a
// time (Firehose objects on one line, a big Event Hubs body or
// filter-log-events output): every event comes out, with each record on
// its own line when the object spans lines.
func TestStreamBigLines(t *testing.T) {
	aks := func(i int) string {
		return `{"category":"kube-audit","resourceId":"/S/MANAGEDCLUSTERS/C1","properties":{"log":` + quoted(sampleEvent(i)) + `}}`
	}
	cw := func(i int) string { return `{"timestamp":1,"message":` + quoted(sampleEvent(i)) + `}` }
	var firehose, hubs, filter strings.Builder
	hubs.WriteString(`{"records":[`)
	filter.WriteString("{\n  \"events\": [\n")
	for i := range 50 {
		fmt.Fprintf(&firehose, `{"messageType":"DATA_MESSAGE","logGroup":"/aws/eks/demo/cluster","logEvents":[%s,%s]}`, cw(2*i), cw(2*i+1))
		if i > 0 {
			hubs.WriteByte(',')
			filter.WriteString(",\n")
		}
		hubs.WriteString(aks(i))
		filter.WriteString("    " + cw(i))
	}
	hubs.WriteString("]}\n")
	filter.WriteString("\n  ],\n  \"searchedLogStreams\": [],\n  \"nextToken\": \"x\"\n}\n")
	tests := []struct {
		name    string
		data    string
		records int
		lines   []int64 // the output lines holding events
	}{
		{"firehose", firehose.String(), 100, []int64{1}},
		{"event hubs", hubs.String(), 50, []int64{1}},
		{"filter-log-events", filter.String(), 50, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, probs, _ := streamAll(t, []byte(tt.data), 4096, 1<<20, 4096, false)
			if len(probs) > 0 {
				t.Fatalf("problems: %v", probs)
			}
			n := bytes.Count(out, []byte(`"auditID"`))
			if n != tt.records {
				t.Errorf("%d events, want %d", n, tt.records)
			}
			if got, want := inputLines(out), inputLines([]byte(tt.data)); got != want {
				t.Errorf("%d output lines for %d input lines", got, want)
			}
			if tt.name == "filter-log-events" {
				// Each event on the line of its own log event.
				for i, l := range bytes.Split(out, []byte("\n")) {
					if has := bytes.Contains(l, []byte(`"auditID"`)); has != (i >= 2 && i < 52) {
						t.Errorf("line %d: event %v", i+1, has)
					}
				}
			}
		})
	}
}

// TestStreamTooLong: a value longer than the limit is one problem with its
// line, and the records after it are read.
func TestStreamTooLong(t *testing.T) {
	data := `{"records":[{"category":"kube-audit","properties":{"log":"` + strings.Repeat("x", 5000) + "\n" +
		`{"category":"kube-audit","properties":{"log":` + quoted(sampleEvent(1)) + "}}\n"
	out, probs, counts := streamAll(t, []byte(data), 256, 2048, 1<<30, false)
	if counts[TooLong] != 1 || len(probs) != 1 || probs[0].Line != 1 {
		t.Errorf("problems %v, counts %v", probs, counts)
	}
	if lines := strings.Split(string(out), "\n"); len(lines) != 3 || !strings.Contains(lines[1], `"auditID"`) {
		t.Errorf("output %q", out)
	}
}

// genReader writes n items of an export shape as they are read, so that
// a big export needs no memory of its own.
type genReader struct {
	head, sep, tail string
	item            func(i int) string
	n, i            int
	buf             bytes.Buffer
}

func (g *genReader) Read(p []byte) (int, error) {
	for g.buf.Len() < len(p) && g.i <= g.n {
		switch {
		case g.i == 0:
			g.buf.WriteString(g.head)
		case g.i < g.n:
			g.buf.WriteString(g.sep)
		}
		if g.i < g.n {
			g.buf.WriteString(g.item(g.i))
		} else {
			g.buf.WriteString(g.tail)
		}
		g.i++
	}
	if g.buf.Len() == 0 {
		return 0, io.EOF
	}
	return g.buf.Read(p)
}

// TestStreamBoundedMemory streams big generated exports of each shape
// that is one JSON value or one line (a gcloud array, an Event Hubs body,
// filter-log-events output, Firehose objects): every event comes out, and
// the peak live heap stays under 32 MiB while the export is 43 MiB.
func TestStreamBoundedMemory(t *testing.T) {
	ev := func(i int) string { return quoted(sampleEvent(i)) }
	gke := func(i int) string {
		return fmt.Sprintf(`  {"protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.get","resourceName":"core/v1/namespaces/ns/pods/p%d","authenticationInfo":{"principalEmail":"u@example.com"},"status":{}},"operation":{"id":"%d","first":true,"last":true},"timestamp":"2026-01-01T00:00:00Z","resource":{"labels":{"cluster_name":"g1"}},"padding":%q}`, i, i, strings.Repeat("p", 700))
	}
	shapes := map[string]genReader{
		"gcloud array": {head: "[\n", sep: ",\n", tail: "\n]\n", item: gke},
		"event hubs": {head: `{"records":[`, sep: ",", tail: "]}\n", item: func(i int) string {
			return `{"category":"kube-audit","resourceId":"/S/MANAGEDCLUSTERS/C1","properties":{"log":` + ev(i) + `}}`
		}},
		"filter-log-events": {head: "{\n    \"events\": [\n", sep: ",\n", tail: "\n    ],\n    \"searchedLogStreams\": []\n}\n", item: func(i int) string {
			return `        {"logStreamName":"kube-apiserver-audit-1","timestamp":1,"message":` + ev(i) + `,"eventId":"1"}`
		}},
		"firehose": {item: func(i int) string {
			return `{"messageType":"DATA_MESSAGE","logGroup":"/aws/eks/demo/cluster","logEvents":[{"id":"1","timestamp":1,"message":` + ev(i) + `}]}`
		}},
	}
	n := 45000 // about 43 MB: more than the bound below
	if raceEnabled {
		n = 10000 // slow under the race detector; its memory is not the Stream's
	}
	for name, shape := range shapes {
		t.Run(name, func(t *testing.T) {
			g := shape
			g.n = n
			peak, events := streamPeak(t, &g)
			if events != n {
				t.Fatalf("%d events, want %d", events, n)
			}
			if g.buf.Len() != 0 || g.i <= g.n {
				t.Fatalf("the export was not read to its end")
			}
			t.Logf("%d events (%d MiB): peak live heap %d MiB above the start", n, n*1000>>20, peak>>20)
			if peak > 32<<20 {
				t.Errorf("peak live heap %d MiB reading an export of %d MiB", peak>>20, n*1000>>20)
			}
		})
	}
}

// liveHeap is the heap the last GC found live (garbage not counted, so
// the figure does not depend on when the GC ran).
func liveHeap() uint64 {
	m := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(m)
	return m[0].Value.Uint64()
}

// streamPeak reads r through a Stream, sampling the live heap, and gives
// its peak above the start and the number of events.
func streamPeak(t *testing.T, r io.Reader) (uint64, int) {
	runtime.GC()
	base := liveHeap()
	peak := base
	s := NewStream(r)
	buf := make([]byte, 1<<20)
	events, reads := 0, 0
	var tail []byte
	for {
		// The first bytes of the buffer carry the end of the last read:
		// a key cut by a read boundary is counted once, whole.
		const key, keep = `"auditID"`, len(`"auditID"`) - 1
		copy(buf, tail)
		m, err := s.Read(buf[len(tail):])
		reads++
		got := buf[:len(tail)+m]
		events += bytes.Count(got, []byte(key))
		tail = append(tail[:0], got[max(len(got)-keep, 0):]...)
		runtime.GC() // the live heap now, not as of the last GC
		peak = max(peak, liveHeap())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range s.Problems() {
		if !p.Kind.Skipped() {
			t.Errorf("problem: %v", p)
		}
	}
	if reads < 10 {
		t.Errorf("only %d reads: the heap was not sampled while reading", reads)
	}
	return peak - base, events
}

// TestStreamBoundedPadding: a long stretch without events (klog lines)
// is written out as it is read, not held until the next event.
func TestStreamBoundedPadding(t *testing.T) {
	const n = 300000 // about 20 MB of klog lines
	g := &genReader{sep: "\n", tail: "\n" + `{"category":"kube-audit","properties":{"log":` + quoted(sampleEvent(1)) + "}}\n",
		item: func(int) string {
			return "I0109 12:00:00.000000       1 main.go:42] a component's log line, not an audit event"
		}, n: n}
	peak, events := streamPeak(t, g)
	if events != 1 {
		t.Errorf("%d events", events)
	}
	t.Logf("peak live heap %d MiB above the start", peak>>20)
	if peak > 16<<20 {
		t.Errorf("peak live heap %d MiB reading %d lines without events", peak>>20, n)
	}
}

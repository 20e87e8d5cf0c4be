package ingest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kaudit/kaudit/audit"
)

func addSeeds(f *testing.F) {
	f.Add([]byte(lines(ev("1"), "bad", evList("2", "3"))), uint16(7))
	f.Add([]byte("{\n \"kind\": \"Event\",\n \"auditID\": \"a\", \"stage\": \"Panic\"\n}\n[\n{}, 1, \"s\\\"}\" ]x\n"), uint16(3))
	f.Add([]byte("\xef\xbb\xbf[\n"+pretty(f, ev("p"))+"\n]"), uint16(50))
	f.Add([]byte("\x00\x01binary"), uint16(1))
	for _, name := range []string{"kbx-openshift-single-event-pretty.json", "k8sdocs-webhook-eventlist-v1alpha1.json", "k8sdocs-v1alpha1.jsonl"} {
		if data, err := os.ReadFile(filepath.Join(fixtures, name)); err == nil {
			f.Add(data, uint16(len(data)/3))
		}
	}
}

// FuzzSplit runs arbitrary bytes through the whole reader (line and
// document splitting, chunking, spooling, decoding) with a small MaxLine,
// once in small chunks and once in one: no panic, the same output both
// times, every byte of the stream counted, every event's Raw found at its
// offset, and every non-blank line of a JSON-lines stream accounted for by
// an event or a problem.
func FuzzSplit(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		const maxLine = 300
		small := runBytes(t, data, int(chunk%512)+1, maxLine)
		big := runBytes(t, data, 0, maxLine)
		if a, b := outline(small), outline(big); a != b {
			t.Fatalf("chunk %d changes the output:\n%s\nvs\n%s", chunk%512+1, a, b)
		}
		if !bytes.HasPrefix(data, bom) && isBinary(data) {
			if len(big.problems) != 1 || big.problems[0].Kind != Binary || big.sum.Events != 0 {
				t.Fatalf("binary input: %v", big.problems)
			}
			return
		}
		if big.sum.Bytes != int64(len(data)) {
			t.Fatalf("%d bytes read of %d", big.sum.Bytes, len(data))
		}
		for _, b := range big.batches {
			for i, e := range b.Events {
				if o := b.Offsets[i]; o < 0 || o+int64(len(e.Raw)) > int64(len(data)) || !bytes.Equal(data[o:o+int64(len(e.Raw))], e.Raw) {
					t.Fatalf("event at %d is not where its offset says", o)
				}
			}
		}
		body := bytes.TrimPrefix(data, bom)
		if len(body) == 0 || len(data) > binarySniff || docMode(body, true) {
			return // the line checks below are for JSON lines the reader sniffs at once
		}
		nl := int64(bytes.Count(data, []byte{'\n'}))
		if data[len(data)-1] != '\n' {
			nl++
		}
		if big.sum.Lines != nl {
			t.Fatalf("%d lines counted, want %d", big.sum.Lines, nl)
		}
		accounted := map[int64]bool{}
		for _, p := range big.problems {
			accounted[p.Line] = true
		}
		for _, b := range big.batches {
			for _, o := range b.Offsets {
				accounted[int64(bytes.Count(data[:o], []byte{'\n'}))+1] = true
			}
		}
		for i, l := range bytes.Split(data, []byte{'\n'}) {
			if len(bytes.Trim(l, " \t\r\xef\xbb\xbf")) > 0 && !accounted[int64(i+1)] {
				if evs, err := audit.Decode(bytes.TrimSuffix(l, []byte{'\r'}), nil); err == nil && len(evs) == 0 {
					continue // an empty EventList: nothing to hand on, nothing wrong
				}
				t.Fatalf("line %d (%q) neither decoded nor reported", i+1, l)
			}
		}
	})
}

func runBytes(t *testing.T, data []byte, chunk, maxLine int) result {
	return run(t, &Replay{Paths: []string{"-"}, Stdin: bytes.NewReader(data), chunk: chunk, MaxLine: maxLine, Workers: 2})
}

// outline is a run's output in comparable form.
func outline(r result) string {
	var b bytes.Buffer
	for _, bt := range r.batches {
		for i, e := range bt.Events {
			fmt.Fprintf(&b, "event %q at %d\n", e.AuditID, bt.Offsets[i])
		}
	}
	for _, p := range r.problems {
		fmt.Fprintf(&b, "%d %s\n", p.Line, p.Kind)
	}
	fmt.Fprintf(&b, "%d bytes %d lines %d events\n", r.sum.Bytes, r.sum.Lines, r.sum.Events)
	return b.String()
}

// FuzzDocScan checks the document splitter alone: documents in order,
// every byte in a document or a separator, line numbers true, and the same
// documents when the input comes in pieces the way the reader feeds it.
func FuzzDocScan(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, piece uint16) {
		var s docScanner
		spans, cut := s.scan(data, 0, nil, false)
		spans = s.finish(spans, data)
		if cut > len(data) {
			t.Fatalf("cut %d past %d", cut, len(data))
		}
		at := 0
		for _, sp := range spans {
			if sp.start < at || sp.end <= sp.start || sp.end > len(data) {
				t.Fatalf("span %+v after %d in %d bytes", sp, at, len(data))
			}
			for _, c := range data[at:sp.start] {
				if !bytes.ContainsRune([]byte(" \t\r\n,[]"), rune(c)) {
					t.Fatalf("byte %q between documents lost", c)
				}
			}
			if want := int64(bytes.Count(data[:sp.start], []byte{'\n'})) + 1; sp.line != want {
				t.Fatalf("span %+v: line %d, want %d", sp, sp.line, want)
			}
			if want := int64(bytes.Count(data[:sp.end-1], []byte{'\n'})) + 1; sp.endLine != want {
				t.Fatalf("span %+v: end line %d, want %d", sp, sp.endLine, want)
			}
			at = sp.end
		}
		for _, c := range data[at:] {
			if !bytes.ContainsRune([]byte(" \t\r\n,[]"), rune(c)) {
				t.Fatalf("trailing byte %q lost", c)
			}
		}

		// In pieces, carrying the unfinished rest over as the reader does.
		k := int(piece%64) + 1
		var got []span
		var inc docScanner
		base, scanned := 0, 0
		buf := []byte{}
		for pos := 0; pos < len(data); {
			end := min(pos+k, len(data))
			buf = append(buf, data[pos:end]...)
			pos = end
			var sp []span
			sp, c := inc.scan(buf, scanned, nil, false)
			if pos == len(data) {
				sp, c = inc.finish(sp, buf), len(buf)
			}
			for _, x := range sp {
				x.start += base
				x.end += base
				got = append(got, x)
			}
			inc.rebase(c)
			buf = append([]byte{}, buf[c:]...)
			base += c
			scanned = len(buf)
		}
		if fmt.Sprint(got) != fmt.Sprint(spans) {
			t.Fatalf("in pieces of %d:\n%v\nat once:\n%v", k, got, spans)
		}
	})
}

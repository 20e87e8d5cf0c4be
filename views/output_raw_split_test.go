package views

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/store"
)

// writeRawOne is WriteRaw as it was before it split its work.
func writeRawOne(w io.Writer, st *store.Store, events *store.Set, asArray bool) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	r := st.NewRawReader()
	var compact bytes.Buffer
	if asArray {
		bw.WriteString("[")
	}
	n := 0
	var missing *store.UnreadableError
	it := events.Iterator()
	for it.HasNext() {
		id := it.Next()
		raw, err := r.Raw(id)
		if err != nil {
			// Its file changed after it was read: skip it, say so at the end.
			missing = missing.Note(fmt.Errorf("event %d: %w", id, err))
			continue
		}
		raw = outputLine(raw, &compact)
		if asArray {
			if n > 0 {
				bw.WriteByte(',')
			}
			bw.WriteByte('\n')
		}
		bw.Write(raw)
		if !asArray {
			bw.WriteByte('\n')
		}
		n++
	}
	if asArray {
		bw.WriteString("\n]\n")
	}
	if err := bw.Flush(); err != nil || missing == nil {
		return err
	}
	return missing
}

// WriteRaw, its blocks made on several goroutines, writes what it wrote
// on one: every event in order (pretty-printed ones compacted, secrets
// redacted, bad UTF-8 replaced), JSON lines or one array, with the events
// of a truncated file left out and counted the same.
func TestWriteRawSplit(t *testing.T) {
	evs, buf, offs := genEvents(t, 13, 2200)
	st := store.New()
	st.Append(evs, bytes.NewReader(buf), offs)
	// A pretty-printed event with a secret and bad UTF-8, and the first
	// few events again from a file truncated after it was read.
	odd := []byte("{\n  \"kind\": \"Event\", \"apiVersion\": \"audit.k8s.io/v1\", \"auditID\": \"odd-1\", \"stage\": \"ResponseComplete\",\n" +
		"  \"verb\": \"get\", \"user\": {\"username\": \"b\xffd\"}, \"objectRef\": {\"resource\": \"secrets\"},\n" +
		"  \"responseObject\": {\"kind\": \"Secret\", \"data\": {\"password\": \"aHVudGVyMg==\"}},\n  \"stageTimestamp\": \"2026-01-01T00:00:01Z\"}")
	oddEvs, err := audit.Decode(odd, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Append(oddEvs, bytes.NewReader(odd), []int64{0})
	more, moreBuf, moreOffs := genEvents(t, 14, 6)
	st.Append(more, &shortFile{data: moreBuf, size: moreOffs[3]}, moreOffs)
	all := roaring.New()
	all.AddRange(0, uint64(st.Len()))
	if all.GetCardinality() < 3*1024 {
		t.Fatalf("%d events: fewer than three blocks", all.GetCardinality())
	}
	every5 := roaring.New()
	for id := range uint32(st.Len()) {
		if id%5 == 0 {
			every5.Add(id)
		}
	}
	for _, set := range []*store.Set{all, every5, roaring.New(), roaring.BitmapOf(uint32(st.Len() - 1))} {
		for _, asArray := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d events array %v", set.GetCardinality(), asArray), func(t *testing.T) {
				var got, want bytes.Buffer
				gotErr, wantErr := WriteRaw(&got, st, set, asArray), writeRawOne(&want, st, set, asArray)
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Fatalf("%d bytes written, want %d", got.Len(), want.Len())
				}
				if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
					t.Fatalf("error %v, want %v", gotErr, wantErr)
				}
				if asArray && !json.Valid(got.Bytes()) {
					t.Fatal("not one JSON document")
				}
			})
		}
	}
	var out bytes.Buffer
	if err := WriteRaw(&out, st, all, false); err == nil || !bytes.Contains(out.Bytes(), []byte("odd-1")) || bytes.Contains(out.Bytes(), []byte("aHVudGVyMg==")) {
		t.Fatalf("the truncated file's events (error %v), the odd event or its redaction are not as expected", err)
	}
}

package views

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/store"
)

// shortFile is a file truncated after it was read: reads past size fail.
type shortFile struct {
	data []byte
	size int64
}

func (f *shortFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.size {
		return 0, io.EOF
	}
	n := copy(p, f.data[off:f.size])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// TestWriteRawUnreadable: an event whose original bytes cannot be read
// again (its file was truncated after it was read) is skipped and counted;
// every other event is still written (it used to end the output at once).
func TestWriteRawUnreadable(t *testing.T) {
	lines := []string{
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","verb":"get","stageTimestamp":"2026-01-01T00:00:01Z"}`,
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"b","stage":"ResponseComplete","verb":"get","stageTimestamp":"2026-01-01T00:00:02Z"}`,
	}
	// The second file holds the same events, the first was truncated.
	for _, order := range [][2]int{{0, 1}, {1, 0}} {
		st := store.New()
		for k, i := range order {
			data := []byte(lines[i] + "\n")
			evs, err := audit.Decode(data[:len(data)-1], nil)
			if err != nil {
				t.Fatal(err)
			}
			f := &shortFile{data: data, size: int64(len(data))}
			if k == 0 {
				f.size = 10
			}
			st.Append(evs, f, []int64{0})
		}
		all := &store.Set{}
		all.AddRange(0, uint64(st.Len()))
		var out bytes.Buffer
		err := WriteRaw(&out, st, all, false)
		var ue *store.UnreadableError
		if !errors.As(err, &ue) || ue.Count != 1 {
			t.Errorf("WriteRaw: %v, want an UnreadableError counting 1", err)
		}
		if got, want := out.String(), lines[order[1]]+"\n"; got != want {
			t.Errorf("wrote %q, want the readable event %q", got, want)
		}
		if !strings.Contains(err.Error(), "1 event") {
			t.Errorf("message %q does not say how many", err)
		}
	}
}

package views

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/kaudit/kaudit/internal/goldenfile"
)

func TestQuantile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		values []time.Duration
		q      float64
		want   time.Duration
	}{
		{nil, 0.5, 0},
		{ms(7), 0.5, 7 * time.Millisecond},
		{ms(7), 0.99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.5, 5 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := quantile(tt.values, tt.q); got != tt.want {
			t.Errorf("quantile(%v, %v) = %v, want %v", tt.values, tt.q, got, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := map[time.Duration]string{
		0:                          "-",
		1234 * time.Nanosecond:     "1µs",
		12345 * time.Microsecond:   "12.3ms",
		1234567 * time.Microsecond: "1.235s",
		125 * time.Second:          "2m5s",
	}
	for d, want := range tests {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestWriters(t *testing.T) {
	tab := &Table{View: ViewUsers, Columns: []Column{
		text("USER", "user"), integer("REQUESTS", "requests"), percent("SHARE", "share"), duration("P50", "p50"), timestamp("LAST", "last"),
	}, Rows: [][]any{
		{"alice", 12, 92.3077, 1500 * time.Millisecond, time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)},
		{"", 1, 7.6923, time.Duration(0), time.Time{}},
	}}
	var text, jsonl, js bytes.Buffer
	if err := WriteText(&text, tab); err != nil {
		t.Fatal(err)
	}
	wantText := "USER   REQUESTS  SHARE   P50  LAST\n" +
		"alice        12  92.3%  1.5s  2026-11-25T10:00:00.000Z\n" +
		"-             1   7.7%     -  -\n"
	if text.String() != wantText {
		t.Errorf("text:\n%s\nwant:\n%s", text.String(), wantText)
	}
	WriteJSONLines(&jsonl, tab)
	wantJSONL := `{"user":"alice","requests":12,"share":92.31,"p50":1.5,"last":"2026-11-25T10:00:00Z"}` + "\n" +
		`{"user":"","requests":1,"share":7.69,"p50":null,"last":null}` + "\n"
	if jsonl.String() != wantJSONL {
		t.Errorf("jsonl:\n%s\nwant:\n%s", jsonl.String(), wantJSONL)
	}
	WriteJSON(&js, tab)
	if !strings.HasPrefix(js.String(), "[\n{") || !strings.HasSuffix(js.String(), "}\n]\n") || strings.Count(js.String(), "\n") != 4 {
		t.Errorf("json:\n%s", js.String())
	}
}

// TestWriteTextWide: columns are measured in terminal cells, so names in
// CJK (two cells a rune), emoji (two cells, some several code points) and
// combining accents (zero cells) line up with ASCII ones.
func TestWriteTextWide(t *testing.T) {
	tab := &Table{View: ViewUsers, Columns: []Column{
		text("USER", "user"), integer("REQUESTS", "requests"), text("NAMESPACE", "namespace"),
	}, Rows: [][]any{
		{"alice", 12, "default"},
		{"山田太郎", 7, "本番"},
		{"deploy-🚀", 3, "ns-👩‍💻"},
		{"ze\u0301ro", 1, "x"},
	}}
	var b bytes.Buffer
	if err := WriteText(&b, tab); err != nil {
		t.Fatal(err)
	}
	goldenfile.Check(t, "testdata/wide.golden", b.Bytes())
	// Independent of the golden file: every REQUESTS value ends in the
	// same cell column as its header.
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	end := ansi.StringWidth(lines[0][:strings.Index(lines[0], "REQUESTS")+len("REQUESTS")])
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		num := f[len(f)-2]
		idx := strings.Index(l, "  "+num+"  ") + 2 + len(num)
		if got := ansi.StringWidth(l[:idx]); got != end {
			t.Errorf("%q: count ends at cell %d, header at %d", l, got, end)
		}
	}
}

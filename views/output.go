package views

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/kaudit/kaudit/redact"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/termsafe"
)

// WriteText writes t as aligned columns with a header line. Every value
// passes through termsafe.Printable first; widths are terminal cells
// (ansi.StringWidth), so CJK and emoji, two cells wide, stay aligned. The
// cells of a big table (a million events) are made and laid out on one
// goroutine per core, and written in order.
func WriteText(w io.Writer, t *Table) error {
	header := make([]string, len(t.Columns))
	widths := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = c.Header
		widths[i] = ansi.StringWidth(c.Header)
	}
	cells := make([][]string, len(t.Rows))
	var mu sync.Mutex
	inRanges(len(t.Rows), func(lo, hi int) {
		wd := make([]int, len(t.Columns))
		for r := lo; r < hi; r++ {
			line := make([]string, len(t.Rows[r]))
			for i, v := range t.Rows[r] {
				line[i] = termsafe.Printable(textValue(t.Columns[i].Kind, v))
				wd[i] = max(wd[i], ansi.StringWidth(line[i]))
			}
			cells[r] = line
		}
		mu.Lock()
		for i := range widths {
			widths[i] = max(widths[i], wd[i])
		}
		mu.Unlock()
	})
	bw := bufio.NewWriter(w)
	bw.Write(textLine(nil, t.Columns, widths, header))
	block := 4096
	if len(cells) < rowsSplitMin {
		block = len(cells) // one goroutine
	}
	inOrder(len(cells), block, func(buf []byte, lo, hi int) []byte {
		for _, line := range cells[lo:hi] {
			buf = textLine(buf, t.Columns, widths, line)
		}
		return buf
	}, func(_ int, b []byte) { bw.Write(b) })
	return bw.Flush()
}

// textLine appends one line of aligned cells to buf.
func textLine(buf []byte, cols []Column, widths []int, line []string) []byte {
	for i, s := range line {
		pad := widths[i] - ansi.StringWidth(s)
		last := i == len(line)-1
		switch {
		case numeric(cols[i].Kind):
			buf = append(appendSpaces(buf, pad), s...)
		case last:
			buf = append(buf, s...)
		default:
			buf = appendSpaces(append(buf, s...), pad)
		}
		if !last {
			buf = append(buf, "  "...)
		}
	}
	return append(buf, '\n')
}

func appendSpaces(buf []byte, n int) []byte {
	for ; n > 0; n-- {
		buf = append(buf, ' ')
	}
	return buf
}

func numeric(k Kind) bool { return k == KindInt || k == KindPercent || k == KindDuration }

func textValue(k Kind, v any) string {
	switch k {
	case KindInt:
		return strconv.Itoa(v.(int))
	case KindPercent:
		return strconv.FormatFloat(v.(float64), 'f', 1, 64) + "%"
	case KindDuration:
		return FormatDuration(v.(time.Duration))
	case KindTime:
		if t := v.(time.Time); !t.IsZero() {
			return t.Format(timeLayout)
		}
		return "-"
	}
	if s := v.(string); s != "" {
		return s
	}
	return "-"
}

// jsonValue is a value as JSON shows it: durations in seconds, times in RFC
// 3339, both null when unknown (zero); percentages rounded to 0.01.
func jsonValue(k Kind, v any) any {
	switch k {
	case KindDuration:
		if d := v.(time.Duration); d != 0 {
			return d.Seconds()
		}
		return nil
	case KindPercent:
		f, _ := strconv.ParseFloat(strconv.FormatFloat(v.(float64), 'f', 2, 64), 64)
		return f
	case KindTime:
		if t := v.(time.Time); !t.IsZero() {
			return t.Format(time.RFC3339Nano)
		}
		return nil
	}
	return v
}

// rowJSON writes one row as a JSON object with the columns' keys in order.
func rowJSON(buf *bytes.Buffer, cols []Column, row []any) {
	buf.WriteByte('{')
	for i, c := range cols {
		if i > 0 {
			buf.WriteByte(',')
		}
		key, _ := json.Marshal(c.Key)
		val, _ := json.Marshal(jsonValue(c.Kind, row[i]))
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(val)
	}
	buf.WriteByte('}')
}

// WriteJSONLines writes each row as one JSON object per line.
func WriteJSONLines(w io.Writer, t *Table) error {
	bw := bufio.NewWriter(w)
	var buf bytes.Buffer
	for _, row := range t.Rows {
		buf.Reset()
		rowJSON(&buf, t.Columns, row)
		buf.WriteByte('\n')
		bw.Write(termsafe.JSON(buf.Bytes())) // bidi, C1: as \u escapes
	}
	return bw.Flush()
}

// WriteJSON writes the rows as one JSON array.
func WriteJSON(w io.Writer, t *Table) error {
	bw := bufio.NewWriter(w)
	var buf bytes.Buffer
	bw.WriteString("[")
	for i, row := range t.Rows {
		if i > 0 {
			bw.WriteString(",")
		}
		buf.Reset()
		rowJSON(&buf, t.Columns, row)
		bw.WriteString("\n")
		bw.Write(termsafe.JSON(buf.Bytes())) // bidi, C1: as \u escapes
	}
	bw.WriteString("\n]\n")
	return bw.Flush()
}

// PrintedEvent is what every printer shows of an event's original bytes
// (outputBytes), for printers outside this package (detect's hits).
func PrintedEvent(raw []byte) []byte { return outputBytes(raw) }

// outputBytes is what is printed of an event's original bytes: its secrets
// redacted (unless --show-secrets), invalid UTF-8 replaced with U+FFFD as
// the warning about it says, so that the JSON printed is valid, and
// terminal-unsafe runes escaped (termsafe.JSON).
func outputBytes(raw []byte) []byte {
	raw = redact.Output(raw)
	if !utf8.Valid(raw) { // a fast ASCII scan for nearly every event
		raw = bytes.ToValidUTF8(raw, []byte("\uFFFD"))
	}
	// Bidi overrides, C1 controls and the like are valid raw in JSON
	// strings: printed as \u escapes, the same value, terminal-safe.
	return termsafe.JSON(raw)
}

// outputLine is outputBytes on one line: an event that was a pretty-printed,
// multi-line document is compacted (into scratch) so that it fits one.
func outputLine(raw []byte, scratch *bytes.Buffer) []byte {
	raw = outputBytes(raw)
	if bytes.ContainsAny(raw, "\r\n") {
		scratch.Reset()
		if json.Compact(scratch, raw) == nil {
			return scratch.Bytes()
		}
	}
	return raw
}

// WriteRaw writes the original bytes of every event in events, in ID (input)
// order: one per line, or with asArray as one JSON array. An event that was a
// pretty-printed, multi-line document is compacted so that it fits one line;
// secrets are redacted and invalid UTF-8 replaced (outputBytes); every other
// event is written unchanged. Events whose bytes cannot be read again are
// skipped and counted in the *store.UnreadableError returned after the
// others were written. events are IDs of the store's current ID base, read
// one by one: beside a writer that may rebase the store (store/rebase.go),
// the caller writes again should the base move meanwhile (the terminal
// UI's w does).
func WriteRaw(w io.Writer, st *store.Store, events *store.Set, asArray bool) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	ids := events.ToArray()
	// Blocks of events are read and made printable on one goroutine per
	// core (a million events is a second of work), and written in order.
	const block = 1024
	errs := make([][]error, (len(ids)+block-1)/block) // per block, in ID order
	var missing *store.UnreadableError
	if asArray {
		bw.WriteString("[")
	}
	first := true
	inOrder(len(ids), block, func(buf []byte, lo, hi int) []byte {
		r := st.AcquireRawReader()
		defer st.ReleaseRawReader(r)
		var compact bytes.Buffer
		for _, id := range ids[lo:hi] {
			raw, err := r.Raw(id)
			if err != nil {
				// Its file changed after it was read: skip it, say so at the end.
				errs[lo/block] = append(errs[lo/block], fmt.Errorf("event %d: %w", id, err))
				continue
			}
			raw = outputLine(raw, &compact)
			if asArray {
				buf = append(buf, ",\n"...) // the first event's comma is cut
			}
			buf = append(buf, raw...)
			if !asArray {
				buf = append(buf, '\n')
			}
		}
		return buf
	}, func(lo int, b []byte) {
		for _, err := range errs[lo/block] {
			missing = missing.Note(err)
		}
		if asArray && first && len(b) > 0 {
			b, first = b[1:], false
		}
		bw.Write(b)
	})
	if asArray {
		bw.WriteString("\n]\n")
	}
	if err := bw.Flush(); err != nil || missing == nil {
		return err
	}
	return missing
}

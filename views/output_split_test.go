package views

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/kaudit/kaudit/termsafe"
)

// writeTextOne is WriteText as it was before it split its work: one
// goroutine, the padding made with strings.Repeat.
func writeTextOne(w io.Writer, t *Table) error {
	cells := make([][]string, 0, len(t.Rows)+1)
	header := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = c.Header
	}
	cells = append(cells, header)
	for _, row := range t.Rows {
		line := make([]string, len(row))
		for i, v := range row {
			line[i] = termsafe.Printable(textValue(t.Columns[i].Kind, v))
		}
		cells = append(cells, line)
	}
	widths := make([]int, len(t.Columns))
	for _, line := range cells {
		for i, s := range line {
			widths[i] = max(widths[i], ansi.StringWidth(s))
		}
	}
	bw := bufio.NewWriter(w)
	for _, line := range cells {
		for i, s := range line {
			pad := strings.Repeat(" ", widths[i]-ansi.StringWidth(s))
			last := i == len(line)-1
			switch {
			case numeric(t.Columns[i].Kind):
				bw.WriteString(pad + s)
			case last:
				bw.WriteString(s)
			default:
				bw.WriteString(s + pad)
			}
			if !last {
				bw.WriteString("  ")
			}
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// WriteText on one goroutine or several writes the bytes it wrote before,
// for tables of no rows, of fewer rows than a block, and of many blocks,
// with wide runes, terminal escapes and empty cells.
func TestWriteTextSplit(t *testing.T) {
	defer func(r int) { rowsSplitMin = r }(rowsSplitMin)
	cols := []Column{timestamp("TIME", "time"), text("USER", "user"), integer("N", "n"), percent("SHARE", "share"),
		duration("P50", "p50"), text("WHAT", "what")}
	t0 := time.Date(2026, 12, 6, 16, 0, 0, 0, time.UTC)
	words := []string{"", "alice", "日本語のユーザー", "bob\x1b[31m", "😀x", "system:serviceaccount:kube-system:replicaset-controller"}
	table := func(n int) *Table {
		tb := &Table{View: ViewUsers, Columns: cols}
		for i := range n {
			tb.Rows = append(tb.Rows, []any{t0.Add(time.Duration(i) * time.Millisecond), words[i%len(words)], i * 7,
				float64(i%1000) / 7, time.Duration(i*i) * time.Microsecond, words[(i/3)%len(words)]})
		}
		return tb
	}
	for _, n := range []int{0, 1, 17, 4096, 4097, 3*4096*2 + 5} {
		for _, split := range []int{1, 1 << 40} {
			t.Run(fmt.Sprintf("%d rows split %d", n, split), func(t *testing.T) {
				rowsSplitMin = split
				tb := table(n)
				var got, want bytes.Buffer
				if err := WriteText(&got, tb); err != nil {
					t.Fatal(err)
				}
				writeTextOne(&want, tb)
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Fatalf("differs: %d bytes, want %d", got.Len(), want.Len())
				}
				if lines := bytes.Count(got.Bytes(), []byte("\n")); lines != n+1 {
					t.Fatalf("%d lines, want %d", lines, n+1)
				}
			})
		}
	}
}

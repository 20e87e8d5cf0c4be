package views

import (
	"time"

	"github.com/kaudit/kaudit/store"
)

// Kind says how a column's values are written.
type Kind uint8

// Column kinds.
const (
	KindText     Kind = iota // string
	KindInt                  // int
	KindPercent              // float64, 0–100
	KindDuration             // time.Duration; JSON: seconds
	KindTime                 // time.Time; zero is written as empty / null
)

// Column describes one column of a Table.
type Column struct {
	Header string // table header, upper case
	Key    string // JSON key
	Kind   Kind
}

// Table is the answer to a view: columns and rows of plain values.
type Table struct {
	View    View
	Columns []Column
	Rows    [][]any
	// IDs is the event behind each row, for views of single requests
	// (latency); nil for grouped views.
	IDs []store.ID
}

func text(header, key string) Column    { return Column{header, key, KindText} }
func integer(header, key string) Column { return Column{header, key, KindInt} }
func percent(header, key string) Column { return Column{header, key, KindPercent} }
func duration(header, key string) Column {
	return Column{header, key, KindDuration}
}
func timestamp(header, key string) Column { return Column{header, key, KindTime} }

// FormatDuration writes latencies the way operators read them: microseconds
// and milliseconds below a second, milliseconds' precision up to a minute,
// whole seconds beyond; "-" for zero (unknown). The CLI tables and the TUI
// both use it.
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	case d < time.Minute:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// timeLayout is RFC 3339 with milliseconds: enough to order requests, short
// enough for a table.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

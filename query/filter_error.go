package query

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/kaudit/kaudit/termsafe"
)

// SyntaxError is a filter that could not be compiled. Its Error text is the
// message, then the offending line of the filter with a caret under the
// column where the problem is:
//
//	unknown key "usr" (valid keys: user, group, …)
//	  usr:alice verb:get
//	  ^
type SyntaxError struct {
	Filter string // the filter as typed
	Offset int    // byte offset of the problem in Filter; -1 when unknown
	Msg    string
	Err    error // the underlying error (a *gojq.ParseError, …), if any
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// Error returns the message with the filter and a caret under the offending
// column (several lines).
func (e *SyntaxError) Error() string {
	var b strings.Builder
	b.WriteString(e.Msg)
	if e.Offset < 0 || e.Offset > len(e.Filter) {
		b.WriteString("\n  ")
		b.WriteString(termsafe.Printable(e.Filter))
		return b.String()
	}
	// The line holding Offset, and the offset within it.
	start := strings.LastIndexByte(e.Filter[:e.Offset], '\n') + 1
	end := strings.IndexByte(e.Filter[start:], '\n')
	if end < 0 {
		end = len(e.Filter)
	} else {
		end += start
	}
	line := e.Filter[start:end]
	if strings.Contains(e.Filter, "\n") {
		b.WriteString(" (line ")
		b.WriteString(strconv.Itoa(strings.Count(e.Filter[:start], "\n") + 1))
		b.WriteString(")")
	}
	b.WriteString("\n  ")
	b.WriteString(termsafe.Printable(line))
	b.WriteString("\n  ")
	// As many terminal cells as Printable shows before the offset (a CJK
	// rune or an emoji takes two).
	b.WriteString(strings.Repeat(" ", ansi.StringWidth(termsafe.Printable(line[:e.Offset-start]))))
	b.WriteByte('^')
	return b.String()
}

// Column is the 1-based column (in characters) of the problem within its
// line, or 0 when the position is unknown.
func (e *SyntaxError) Column() int {
	if e.Offset < 0 || e.Offset > len(e.Filter) {
		return 0
	}
	start := strings.LastIndexByte(e.Filter[:e.Offset], '\n') + 1
	return utf8.RuneCountInString(e.Filter[start:e.Offset]) + 1
}

func syntaxErr(filter string, offset int, msg string, err error) *SyntaxError {
	return &SyntaxError{Filter: filter, Offset: offset, Msg: msg, Err: err}
}

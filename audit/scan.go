package audit

import "strconv"

// The fast decoder validates exactly what encoding/json's scanner validates
// and reports the same first syntax error (message and offset), so that the
// two decoders can be fuzzed against each other for identical results and an
// operator's warning reads the same whichever produced it.

// maxDepth is encoding/json's maxNestingDepth: the 10001st open bracket is a
// syntax error.
const maxDepth = 10000

// decoder is the state of one Decode call. It lives on the caller's stack
// and is touched by one goroutine only.
//
// Errors do not unwind the call stack: fail records the first syntax error
// and moves pos to the end of the input, so every loop ends at its next
// bounds check and later errors are ignored.
type decoder struct {
	data  []byte
	pos   int
	depth int // containers open at pos, as encoding/json counts them
	err   *SyntaxError

	// typErr is the first value of the wrong type ("field X holds a JSON
	// Y"), which makes the document (or item) unrecognised. Decoding goes
	// on after one because a later syntax error takes precedence.
	typErr string

	// high records that a string held a byte >= 0x80 since it was last
	// reset. Only then can the event's bytes be invalid UTF-8, which spares
	// a utf8.Valid pass over the (usually ASCII) raw event.
	high bool

	// EventList state (see items in decode_fast.go).
	out     []Event
	base    int
	itemErr error

	arena   *[]byte // where unescaped strings go (DecodeArena), or nil
	leftOut Fields  // the fields not stored (see Fields); 0 stores all

	win maskWin // where strings end (see jsonstr_mask.go)
}

// fail records a syntax error at the byte at d.pos.
func (d *decoder) fail(c byte, context string) {
	if d.err == nil {
		d.err = &SyntaxError{Offset: int64(d.pos) + 1, Msg: "invalid character " + quoteChar(c) + " " + context}
	}
	d.pos = len(d.data)
}

// failEOF records running out of input. encoding/json feeds its scanner one
// space at the end of the input: where a space is itself invalid (inside a
// literal, a number or an escape) the message names it, else it is the
// generic one. context is "" where a space would have been fine.
func (d *decoder) failEOF(context string) {
	if d.err == nil {
		msg := "unexpected end of JSON input"
		if context != "" {
			msg = "invalid character ' ' " + context
		}
		d.err = &SyntaxError{Offset: int64(len(d.data)), Msg: msg}
	}
	d.pos = len(d.data)
}

// quoteChar is encoding/json's rendering of an offending byte.
func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// ws skips JSON whitespace at d.pos.
func (d *decoder) ws() {
	d.pos = skipWS(d.data, d.pos)
}

// open enters the container whose bracket is at d.pos.
func (d *decoder) open() bool {
	d.depth++
	if d.depth > maxDepth {
		d.fail(d.data[d.pos], "exceeded max depth")
		return false
	}
	d.pos++
	return true
}

// more skips whitespace and reports whether a byte follows; at the end of
// the input it records encoding/json's unexpected-end error.
func (d *decoder) more() bool {
	d.ws()
	if d.pos >= len(d.data) {
		d.failEOF("")
		return false
	}
	return true
}

// objBegin consumes '{' and reports whether a key follows (false for {}
// and on error). Call objKey, decode or skip the value, then objNext.
func (d *decoder) objBegin() bool {
	if !d.open() {
		return false
	}
	if !d.more() {
		return false
	}
	if d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return false
	}
	return true
}

// objKey reads a key and the colon after it, leaving d.pos at the value.
// ok is false on a syntax error; otherwise a value byte is guaranteed at
// d.pos, which every value decoder relies on.
func (d *decoder) objKey() (key string, ok bool) {
	if d.pos >= len(d.data) {
		d.failEOF("")
		return "", false
	}
	if c := d.data[d.pos]; c != '"' {
		d.fail(c, "looking for beginning of object key string")
		return "", false
	}
	key = d.str()
	// Compact JSON (the common case) has the colon and value right there.
	if d.pos+1 < len(d.data) && d.data[d.pos] == ':' && d.data[d.pos+1] > ' ' {
		d.pos++
		return key, true
	}
	if !d.more() {
		return "", false
	}
	if c := d.data[d.pos]; c != ':' {
		d.fail(c, "after object key")
		return "", false
	}
	d.pos++
	if !d.more() {
		return "", false
	}
	return key, true
}

// objNext consumes ',' (true: another key follows) or '}' (false).
func (d *decoder) objNext() bool {
	// Compact JSON: the comma and the next key's quote, or the brace.
	if p := d.pos; p+1 < len(d.data) {
		if c := d.data[p]; c == ',' && d.data[p+1] == '"' {
			d.pos = p + 1
			return true
		} else if c == '}' {
			d.pos = p + 1
			d.depth--
			return false
		}
	}
	if !d.more() {
		return false
	}
	switch c := d.data[d.pos]; c {
	case ',':
		d.pos++
		if d.pos < len(d.data) && d.data[d.pos] == '"' {
			return true
		}
		d.ws()
		return true
	case '}':
		d.pos++
		d.depth--
		return false
	default:
		d.fail(c, "after object key:value pair")
		return false
	}
}

// arrBegin consumes '[' and reports whether an element follows, in which
// case a byte is guaranteed at d.pos.
func (d *decoder) arrBegin() bool {
	if !d.open() {
		return false
	}
	if !d.more() {
		return false
	}
	if d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return false
	}
	return true
}

// arrNext consumes ',' (true: an element follows at d.pos) or ']' (false).
func (d *decoder) arrNext() bool {
	if !d.more() {
		return false
	}
	switch c := d.data[d.pos]; c {
	case ',':
		d.pos++
		if !d.more() {
			return false
		}
		return true
	case ']':
		d.pos++
		d.depth--
		return false
	default:
		d.fail(c, "after array element")
		return false
	}
}

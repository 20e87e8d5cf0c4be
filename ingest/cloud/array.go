package cloud

import (
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"strings"

	"github.com/valyala/fastjson"
)

// arrayItem reads the next item of a JSON array that spans lines (gcloud
// logging read --format=json), or its end, so that each item has its own
// line, a truncated array keeps the items before the cut, and the array
// is never held whole. false: the window does not hold the item.
func (d *decoder) arrayItem() bool {
	for ; d.pos < len(d.data); d.pos++ {
		if c := d.data[d.pos]; c == '\n' {
			d.line++
		} else if c != ' ' && c != '\t' && c != '\r' && c != ',' {
			break
		}
	}
	if d.pos == len(d.data) {
		return d.eof
	}
	if d.data[d.pos] == ']' {
		d.pos++
		d.inArray = false
		d.closing = d.wrapped != Plain
		return true
	}
	if ok, done := d.quickValue(1, d.item); done {
		return ok
	}
	dec := json.NewDecoder(bytes.NewReader(d.data[d.pos:]))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if !d.eof && isEOF(err) {
			return false
		}
		// The items before were kept; go on after the broken one.
		if !d.resync(d.pos, d.pos, err, "array item") {
			return false
		}
		d.inArray = false
		return true
	}
	n := int(dec.InputOffset())
	line := d.line
	d.line += int64(bytes.Count(d.data[d.pos:d.pos+n], []byte{'\n'}))
	d.pos += n
	if raw[0] != '{' && raw[0] != '[' {
		d.problem(line, Unrecognised, "an array item that is not an object")
		return true
	}
	v, err := d.parsers[1].ParseBytes(raw)
	if err != nil {
		d.problem(line, Malformed, "malformed JSON: "+err.Error())
		return true
	}
	d.item(v, raw, line)
	return true
}

// item handles one item of a top-level array.
func (d *decoder) item(v *fastjson.Value, raw []byte, line int64) {
	if d.wrapped == CloudWatch {
		d.message(v, line, "")
		return
	}
	d.handleValue(v, raw, line, 1)
}

// quickValue takes the object or array at pos when the window holds it
// whole and it parses (the common case), found by its brackets alone,
// without encoding/json's slower decoder; fn handles it. done: it was
// handled (ok), or the window must grow first (!ok). Else (a value that
// does not parse, or a long one not yet whole) the caller decodes it the
// slow way, for the error's position.
func (d *decoder) quickValue(depth int, fn func(v *fastjson.Value, raw []byte, line int64)) (ok, done bool) {
	if c := d.data[d.pos]; c != '{' && c != '[' {
		return false, false
	}
	end := valueEnd(d.data[d.pos:])
	if end == -2 {
		return false, false
	}
	if end < 0 {
		if !d.eof && len(d.data)-d.pos < d.bigLine {
			return false, true
		}
		return false, false
	}
	raw := d.data[d.pos : d.pos+end]
	v, err := d.parsers[depth].ParseBytes(raw)
	if err != nil {
		return false, false
	}
	line := d.line
	d.line += int64(bytes.Count(raw, []byte{'\n'}))
	d.pos += end
	fn(v, raw, line)
	return true, true
}

// valueEnd is the length of the JSON object or array p starts with, by
// its brackets and strings alone (the parser validates it), -1 when p
// ends first, -2 when a string runs into a newline (not JSON; looking on
// for its end would make every broken line a scan of the rest).
func valueEnd(p []byte) int {
	depth := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '"':
			for {
				j := bytes.IndexByte(p[i+1:], '"')
				if j < 0 {
					if bytes.IndexByte(p[i+1:], '\n') >= 0 {
						return -2
					}
					return -1
				}
				if bytes.IndexByte(p[i+1:i+1+j], '\n') >= 0 {
					return -2 // a string does not span lines: broken JSON, for the slow path to say where
				}
				i += j + 1
				bs := 0 // an odd number of backslashes before it escapes it
				for k := i - 1; k >= 0 && p[k] == '\\'; k-- {
					bs++
				}
				if bs%2 == 0 {
					break
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// wrapperStart is the start of an object holding a big array of records
// (an Event Hubs body) or log events (filter-log-events output).
var wrapperStart = regexp.MustCompile(`^\{\s*"(records|events)"\s*:\s*\[`)

// openWrapper starts reading an object the window cannot hold, when it
// is one whose records or events come first, an item at a time: each
// item is then placed on its own line. false: it is not.
func (d *decoder) openWrapper() bool {
	m := wrapperStart.FindSubmatch(d.data[d.pos:min(len(d.data), d.pos+256)])
	if m == nil {
		return false
	}
	d.wrapped = AKS
	if string(m[1]) == "events" {
		d.wrapped = CloudWatch
	}
	d.line += int64(bytes.Count(m[0], []byte{'\n'}))
	d.pos += len(m[0])
	d.inArray = true
	return true
}

// closeWrapper reads the rest of a wrapped object after its array: its
// other members (nextToken, searchedLogStreams) and the '}'.
func (d *decoder) closeWrapper() bool {
	for ; d.pos < len(d.data) && bytes.IndexByte([]byte(" \t\r\n"), d.data[d.pos]) >= 0; d.pos++ {
		if d.data[d.pos] == '\n' {
			d.line++
		}
	}
	if d.pos == len(d.data) {
		if d.eof {
			d.closing = false
			d.problem(d.line, Truncated, "truncated envelope: the object around the records ends early")
		}
		return d.eof
	}
	if d.data[d.pos] == '}' {
		d.pos++
		d.closing = false
		return true
	}
	if d.data[d.pos] != ',' {
		d.closing = false
		d.problem(d.line, Malformed, "malformed JSON: expected , or } after the records")
		return true
	}
	// The other members, read as an object of their own.
	dec := json.NewDecoder(io.MultiReader(strings.NewReader("{"), bytes.NewReader(d.data[d.pos+1:])))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if !d.eof && isEOF(err) {
			return false
		}
		d.closing = false
		return d.resync(d.pos, d.pos, err, "envelope")
	}
	n := int(dec.InputOffset()) // counts the "{" for the ','
	d.line += int64(bytes.Count(d.data[d.pos:d.pos+n], []byte{'\n'}))
	d.pos += n
	d.closing = false
	return true
}

// Package cloud takes Kubernetes audit events out of the envelopes managed
// clusters deliver them in — GKE Cloud Audit Logs entries, AKS diagnostic
// records, EKS CloudWatch Logs events and their exports — and gives back
// audit.k8s.io/v1 Event JSON, so the rest of kaudit (and jq filters) see
// the usual shape. Nothing is invented: a value the envelope does not carry
// is left out (see README "Cloud exports").
//
// Decode works on a whole input held in memory, Stream on a reader with
// bounded memory: exports come as JSON lines, pretty-printed arrays and
// objects, objects concatenated without newlines (Firehose), and text lines
// with a timestamp in front (`aws logs tail`, S3 exports), sometimes mixed
// in one file.
package cloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/valyala/fastjson"
)

// Record is one audit event taken out of an envelope.
type Record struct {
	Event   []byte // an audit.k8s.io/v1 Event, one line of compact JSON
	Cluster string // the cluster the envelope names ("" when it names none)
	Line    int64  // 1-based line of the input where its envelope starts
	Shape   Shape  // the envelope it came in
}

// Shape names an envelope.
type Shape uint8

// Envelope shapes.
const (
	Plain      Shape = iota // an audit.k8s.io Event or EventList, not wrapped
	GKE                     // Cloud Audit Logs LogEntry, serviceName k8s.io
	AKS                     // Azure diagnostic record (kube-audit, kube-audit-admin)
	CloudWatch              // CloudWatch Logs event, subscription payload or export line
)

var shapeNames = [...]string{"audit event", "GKE Cloud Audit Log entry", "AKS diagnostic record", "CloudWatch Logs event"}

func (s Shape) String() string { return shapeNames[s] }

// Kind says what was wrong with (or skipped in) a piece of input.
type Kind uint8

// Problem kinds. Skipped ones are expected noise, counted, not errors.
const (
	Malformed    Kind = iota // not JSON
	Unrecognised             // JSON, but neither an audit event nor an envelope kaudit knows
	Truncated                // an envelope that ends early
	NoEvent                  // an envelope (record) without its audit event
	UnknownCode              // a gRPC status code with no HTTP equivalent here; event kept without a code
	NotGzip                  // a base64 payload that is not gzip (or not base64)
	TooBig                   // AKS dropped the event: "skipped-too-big-size-object"
	SkippedKlog              // a klog text line (I0109 …) among the records; skipped, counted
	SkippedOther             // an entry that is not a Kubernetes audit event (other service or category, CONTROL_MESSAGE)
	TooLong                  // a value or line longer than a Stream holds (Stream.Limit); skipped
	NumKinds     = iota
)

var kindNames = [NumKinds]string{"malformed", "unrecognised", "truncated", "no event", "unknown gRPC code", "not gzip", "too big (dropped by AKS)", "klog line skipped", "not an audit entry, skipped", "too long"}

func (k Kind) String() string { return kindNames[k] }

// Skipped reports whether the kind is expected noise rather than bad input.
func (k Kind) Skipped() bool { return k == SkippedKlog || k == SkippedOther }

// Problem is a piece of input that gave no event, or an event with less
// than it should have.
type Problem struct {
	Line int64
	Kind Kind
	Msg  string
}

func (p Problem) String() string { return strconv.FormatInt(p.Line, 10) + ": " + p.Msg }

// Result is what Decode found.
type Result struct {
	Records  []Record
	Problems []Problem     // in input order; at most maxDetail per kind, the rest only counted
	Counts   [NumKinds]int // every problem, per kind
}

// maxDetail is how many problems of one kind are kept one by one.
const maxDetail = 100

// maxDepth bounds envelopes inside envelopes (a Lambda payload holding a
// subscription payload holding events).
const maxDepth = 4

// Decode takes every audit event out of data. It never fails: what cannot
// be read is a Problem, and decoding goes on at the next line or value.
func Decode(data []byte) *Result {
	d := decoder{data: bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), line: 1, res: &Result{}, eof: true, bigLine: len(data) + 1}
	d.run()
	return d.res
}

// decoder reads data, a window on the input: every unit (a line, a JSON
// value, an array item) is taken whole from it. When the window ends
// inside a unit and more input may come (!eof), it stops there for the
// Stream to slide the window and read on.
type decoder struct {
	parsers [maxDepth + 1]fastjson.Parser
	data    []byte
	pos     int
	line    int64
	res     *Result
	eof     bool  // data ends where the input ends
	inArray bool  // between the items of a top-level array that spans lines
	wrapped Shape // inArray: the array is a big object's records (AKS) or events (CloudWatch); Plain: a bare array
	closing bool  // past the wrapped array's ']': the rest of its object is next
	skip    bool  // skipping the rest of a line (resync past the window's end)
	// bigLine: a line at least this long that is not all in the window
	// is read a value at a time (Firehose objects concatenated on one
	// line) instead of being waited for whole.
	bigLine int
	// nlAt is the index of a newline at or after pos, when nlAt >= pos;
	// nlScanned is how far the window is known to hold none. Looking for
	// the end of the line anew at each of the thousands of objects of a
	// Firehose line would be quadratic.
	nlAt, nlScanned int
	cluster         string  // the last cluster named (clusterName)
	labels          []label // gke's scratch
	// gkeHook, when set (by tests), decodes GKE entries instead of gke.
	gkeHook func(d *decoder, v *fastjson.Value, raw []byte, line int64)
}

func (d *decoder) problem(line int64, k Kind, msg string) {
	d.res.Counts[k]++
	if d.res.Counts[k] <= maxDetail {
		d.res.Problems = append(d.res.Problems, Problem{Line: line, Kind: k, Msg: msg})
	}
}

func (d *decoder) emit(ev []byte, cluster string, line int64, s Shape) {
	d.res.Records = append(d.res.Records, Record{Event: ev, Cluster: cluster, Line: line, Shape: s})
}

// run reads the units in the window; it stops at the end of the window,
// or (more input to come) at a unit the window does not hold whole.
func (d *decoder) run() {
	for d.pos < len(d.data) {
		ok := true
		switch c := d.data[d.pos]; {
		case d.skip:
			end, found := d.lineEnd()
			d.pos, d.skip = end, !found
		case d.closing:
			ok = d.closeWrapper()
		case d.inArray:
			ok = d.arrayItem()
		case c == '\n':
			d.line++
			d.pos++
		case c == ' ' || c == '\t' || c == '\r':
			d.pos++
		case c == '{' || c == '[':
			ok = d.value()
		default:
			ok = d.textLine()
		}
		if !ok {
			return
		}
	}
	if d.eof && d.inArray {
		d.inArray = false
		d.problem(d.line, Truncated, "truncated array: the JSON value that starts here never ends; the 0 lines from here on skipped")
	}
}

// lineEnd is the index of the end of the line holding pos, and whether
// the window holds that end (else it is the window's end).
func (d *decoder) lineEnd() (int, bool) {
	if d.nlAt >= d.pos && d.nlAt < len(d.data) && d.data[d.nlAt] == '\n' {
		return d.nlAt, true
	}
	from := max(d.pos, d.nlScanned)
	if i := bytes.IndexByte(d.data[from:], '\n'); i >= 0 {
		d.nlAt = from + i
		return d.nlAt, true
	}
	d.nlScanned = len(d.data)
	return len(d.data), false
}

// slid tells the decoder its window now starts n bytes further on.
func (d *decoder) slid(n int) {
	d.pos -= n
	d.nlAt -= n
	d.nlScanned = max(d.nlScanned-n, 0)
}

// value reads one JSON value at pos: the rest of the line when that is
// one value (the common case, and cheap to check), else whatever one
// value spans (pretty-printed, or concatenated objects). false: the
// window does not hold it all.
func (d *decoder) value() bool {
	end, found := d.lineEnd()
	if found || d.eof {
		line := bytes.TrimRight(d.data[d.pos:end], " \t\r")
		if v, err := d.parsers[0].ParseBytes(line); err == nil {
			d.handleValue(v, line, d.line, 0)
			d.pos = end
			return true
		}
	} else if end-d.pos < d.bigLine {
		return false // wait for the whole line
	}
	if d.data[d.pos] == '[' {
		d.pos++
		d.inArray, d.wrapped = true, Plain
		return true
	}
	if ok, done := d.quickValue(0, func(v *fastjson.Value, raw []byte, line int64) { d.handleValue(v, raw, line, 0) }); done {
		return ok
	}
	if !d.eof && len(d.data)-d.pos >= d.bigLine && d.openWrapper() {
		return true // a big object whose records come first: an item at a time
	}
	dec := json.NewDecoder(bytes.NewReader(d.data[d.pos:]))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if !d.eof && isEOF(err) {
			return len(d.data)-d.pos >= d.bigLine && d.openWrapper()
		}
		return d.resync(d.pos, d.pos, err, "envelope")
	}
	n := int(dec.InputOffset())
	start := d.line
	d.line += int64(bytes.Count(d.data[d.pos:d.pos+n], []byte{'\n'}))
	d.pos += n
	d.handle(raw, start, 0)
	return true
}

// resync reports a JSON value starting at start that failed with err and
// moves on: to the line where the value broke (the next line at least), so
// that good records after a damaged one are read and every byte is looked
// at a bounded number of times; when the input ended inside the value,
// to the end.
func (d *decoder) resync(base, start int, err error, what string) bool {
	line := d.line + int64(bytes.Count(d.data[d.pos:start], []byte{'\n'}))
	var se *json.SyntaxError
	if !errors.As(err, &se) || isEOF(err) {
		skipped := bytes.Count(d.data[start:], []byte{'\n'})
		d.problem(line, Truncated, fmt.Sprintf("truncated %s: the JSON value that starts here never ends; the %d lines from here on skipped", what, skipped))
		d.line = line + int64(skipped)
		d.pos = len(d.data)
		return true
	}
	// Offset counts from base, where the decoder began reading.
	bad := min(max(base+int(se.Offset)-1, start), len(d.data))
	next := bytes.IndexByte(d.data[start:], '\n') + start + 1
	if next <= start {
		if !d.eof && len(d.data)-start < d.bigLine {
			return false // read on to the end of the line first
		}
		next = len(d.data)
		d.skip = !d.eof // the rest of the line is not in the window yet
	}
	k, msg := Malformed, "malformed JSON: "+err.Error()
	switch {
	case bad >= next: // it broke on a later line: that line may start a good record
		k, msg = Truncated, "truncated "+what+": the JSON value that starts here is not complete"
		next = bytes.LastIndexByte(d.data[:bad], '\n') + 1
	case bad == next-1: // at the end of its line: cut off there
		k, msg = Truncated, "truncated "+what+": the JSON value on this line is cut off"
	}
	d.problem(line, k, msg)
	d.line = line + int64(bytes.Count(d.data[start:next], []byte{'\n'}))
	d.pos = next
	return true
}

func isEOF(err error) bool {
	return err != nil && (err.Error() == "unexpected EOF" || err.Error() == "EOF")
}

// textLine reads a line that does not start with JSON: a timestamp (and
// stream name) before an event, a klog line, or a bare base64 payload.
func (d *decoder) textLine() bool {
	end, found := d.lineEnd()
	if !found && !d.eof {
		return false
	}
	text := bytes.TrimRight(d.data[d.pos:end], " \t\r")
	d.pos = end
	switch {
	case klogLine(text):
		d.problem(d.line, SkippedKlog, "klog text line; skipped")
	case bytes.HasPrefix(text, []byte("H4sI")):
		d.base64(text, d.line, 0)
	default:
		i := bytes.IndexByte(text, '{')
		if i < 0 || !timestampPrefix(text[:i]) {
			d.problem(d.line, Malformed, "neither JSON nor a `TIMESTAMP [STREAM] {json}` line")
			return true
		}
		ev := text[i:]
		if fastjson.ValidateBytes(ev) != nil {
			d.problem(d.line, Truncated, "the JSON after the timestamp is not complete")
			return true
		}
		d.handle(ev, d.line, 0)
	}
	return true
}

// klogLine recognises klog's header: Lmmdd hh:mm:ss.uuuuuu.
func klogLine(p []byte) bool {
	if len(p) < 21 || !bytes.ContainsRune([]byte("IWEF"), rune(p[0])) {
		return false
	}
	for _, i := range []int{1, 2, 3, 4, 6, 7, 9, 10, 12, 13} {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return p[5] == ' ' && p[8] == ':' && p[11] == ':'
}

// timestampPrefix accepts what export lines put before the event: a
// timestamp that starts with a digit, and perhaps a stream name.
func timestampPrefix(p []byte) bool {
	p = bytes.TrimSpace(p)
	return len(p) >= 10 && p[0] >= '0' && p[0] <= '9' && len(bytes.Fields(p)) <= 2
}

// Package cloud takes Kubernetes audit events out of the envelopes managed
// clusters deliver them in — GKE Cloud Audit Logs entries, AKS diagnostic
// records, EKS CloudWatch Logs events and their exports — and gives back
// audit.k8s.io/v1 Event JSON, so the rest of kaudit (and jq filters) see
// the usual shape. Nothing is invented: a value the envelope does not carry
// is left out (see README "Cloud exports").
//
// Decode works on a whole input held in memory: exports come as JSON lines,
// pretty-printed arrays and objects, objects concatenated without newlines
// (Firehose), and text lines with a timestamp in front (`aws logs tail`, S3
// exports), sometimes mixed in one file.
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
	NumKinds     = iota
)

var kindNames = [NumKinds]string{"malformed", "unrecognised", "truncated", "no event", "unknown gRPC code", "not gzip", "too big (dropped by AKS)", "klog line skipped", "not an audit entry, skipped"}

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
	d := decoder{data: bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), line: 1, res: &Result{}}
	d.run()
	return d.res
}

type decoder struct {
	parsers [maxDepth + 1]fastjson.Parser
	data    []byte
	pos     int
	line    int64
	res     *Result
	cluster string  // the last cluster named (clusterName)
	labels  []label // gke's scratch
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

func (d *decoder) run() {
	for d.pos < len(d.data) {
		switch c := d.data[d.pos]; c {
		case '\n':
			d.line++
			d.pos++
		case ' ', '\t', '\r':
			d.pos++
		case '{', '[':
			d.value()
		default:
			d.textLine()
		}
	}
}

// lineEnd is the index of the end of the line holding pos.
func (d *decoder) lineEnd() int {
	if i := bytes.IndexByte(d.data[d.pos:], '\n'); i >= 0 {
		return d.pos + i
	}
	return len(d.data)
}

// value reads one JSON value at pos: the rest of the line when that is
// one value (the common case, and cheap to check), else whatever one
// value spans (pretty-printed, or concatenated objects).
func (d *decoder) value() {
	end := d.lineEnd()
	line := bytes.TrimRight(d.data[d.pos:end], " \t\r")
	if v, err := d.parsers[0].ParseBytes(line); err == nil {
		d.handleValue(v, line, d.line, 0)
		d.pos = end
		return
	}
	if d.data[d.pos] == '[' {
		d.array()
		return
	}
	dec := json.NewDecoder(bytes.NewReader(d.data[d.pos:]))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		d.resync(d.pos, d.pos, err, "envelope")
		return
	}
	n := int(dec.InputOffset())
	start := d.line
	d.line += int64(bytes.Count(d.data[d.pos:d.pos+n], []byte{'\n'}))
	d.pos += n
	d.handle(raw, start, 0)
}

// resync reports a JSON value starting at start that failed with err and
// moves on: to the line where the value broke (the next line at least), so
// that good records after a damaged one are read and every byte is looked
// at a bounded number of times; when the input ended inside the value,
// to the end.
func (d *decoder) resync(base, start int, err error, what string) {
	line := d.line + int64(bytes.Count(d.data[d.pos:start], []byte{'\n'}))
	var se *json.SyntaxError
	if !errors.As(err, &se) || isEOF(err) {
		skipped := bytes.Count(d.data[start:], []byte{'\n'})
		d.problem(line, Truncated, fmt.Sprintf("truncated %s: the JSON value that starts here never ends; the %d lines from here on skipped", what, skipped))
		d.line = line + int64(skipped)
		d.pos = len(d.data)
		return
	}
	// Offset counts from base, where the decoder began reading.
	bad := min(max(base+int(se.Offset)-1, start), len(d.data))
	next := bytes.IndexByte(d.data[start:], '\n') + start + 1
	if next <= start {
		next = len(d.data)
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
}

// array reads a JSON array that spans lines (gcloud logging read
// --format=json) item by item, so that each item has its own line and a
// truncated array keeps the items before the cut.
func (d *decoder) array() {
	rest := d.data[d.pos:]
	dec := json.NewDecoder(bytes.NewReader(rest))
	dec.Token() // the '['
	// itemAt is where the item after off starts (past blanks and the
	// comma), and its line.
	itemAt := func(off int64) (int, int64) {
		i := int(off)
		for i < len(rest) && bytes.IndexByte([]byte(" \t\r\n,"), rest[i]) >= 0 {
			i++
		}
		return i, d.line + int64(bytes.Count(rest[:i], []byte{'\n'}))
	}
	for dec.More() {
		at, line := itemAt(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			// The items before were kept; go on after the broken one.
			d.resync(d.pos, d.pos+at, err, "array item")
			return
		}
		if raw[0] != '{' && raw[0] != '[' {
			d.problem(line, Unrecognised, "an array item that is not an object")
			continue
		}
		d.handle(raw, line, 1)
	}
	if _, err := dec.Token(); err != nil { // the ']'
		at, _ := itemAt(dec.InputOffset())
		d.resync(d.pos, d.pos+at, err, "array")
		return
	}
	n := int(dec.InputOffset())
	d.line += int64(bytes.Count(rest[:n], []byte{'\n'}))
	d.pos += n
}

func isEOF(err error) bool {
	return err != nil && (err.Error() == "unexpected EOF" || err.Error() == "EOF")
}

// textLine reads a line that does not start with JSON: a timestamp (and
// stream name) before an event, a klog line, or a bare base64 payload.
func (d *decoder) textLine() {
	end := d.lineEnd()
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
			return
		}
		ev := text[i:]
		if fastjson.ValidateBytes(ev) != nil {
			d.problem(d.line, Truncated, "the JSON after the timestamp is not complete")
			return
		}
		d.handle(ev, d.line, 0)
	}
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

package cloud

import (
	"bytes"
	"regexp"
)

// cloudKey finds the members that only cloud envelopes have.
var cloudKey = regexp.MustCompile(`"(protoPayload|logEvents|awslogs|records|messageType|events)"\s*:\s*[\[{"]|"category"\s*:\s*"kube-audit`)

// Sniff reports whether the start of an input looks like a cloud export
// rather than a plain audit log: one of the envelopes' own members, or a
// first line with a timestamp (and stream) before the JSON, a klog line,
// or a base64 gzip payload. A plain log taken for an export still decodes
// the same (Decode passes audit events through), only more slowly.
func Sniff(head []byte) bool {
	return Envelope(head) || klogLine(firstLine(head))
}

// Envelope is Sniff without a first klog line: the start of an input that
// shows an envelope of its own (a component's klog file is not an export).
func Envelope(head []byte) bool {
	if cloudKey.Match(head) {
		return true
	}
	first := firstLine(head)
	if bytes.HasPrefix(first, []byte("H4sI")) {
		return true
	}
	i := bytes.IndexByte(first, '{')
	return i > 0 && timestampPrefix(first[:i])
}

func firstLine(head []byte) []byte {
	first := bytes.TrimSpace(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")))
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	return first
}

// Lines lays out a Result as JSON lines for a reader of plain audit logs:
// line n of the output holds the events whose envelope starts on line n of
// the input (one Event, or an EventList when there are several), so that
// positions and problems keep the input's line numbers. lines is the
// number of lines of the input.
func Lines(r *Result, lines int64) []byte {
	var out bytes.Buffer
	var w linesWriter
	for _, rec := range r.Records {
		w.add(&out, rec)
	}
	w.finish(&out, lines)
	return out.Bytes()
}

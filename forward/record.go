// Package forward sends audit events upstream at least once, in order: to an
// OpenTelemetry Collector (or any OTLP/HTTP logs receiver) and to a
// Datadog-compatible v2 logs intake.
//
// A Forwarder is one sink: a bounded queue of batches (Enqueue blocks while
// it is full: that is the backpressure), one or more senders that post
// payloads with retries, and ordered acknowledgement: Committed is the
// position of the last batch such that it and every batch before it were
// acknowledged (delivered, rejected by the receiver as partial success, or
// written to the dead-letter file). A caller that saves only Committed
// positions may resend after a crash, and never skips.
package forward

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/redact"
)

// Record is one event as it is forwarded.
type Record struct {
	Event    audit.Event // cloned: shares no memory with the decoded chunk; Event.Raw is the original JSON
	ID       string      // kaudit.event_id: EventID(cluster, host, raw)
	Observed time.Time   // when kaudit read it
	// Detections are the rules the event hit (--detect; kaudit.detections),
	// in the pack's order.
	Detections []string
}

// size is what a record costs in the queue, roughly.
func (r *Record) size() int64 { return int64(len(r.Event.Raw)) + 256 }

// wire is what a record adds to a payload before compression, roughly:
// its JSON escaped once more (Datadog's message string) plus the fields
// around it. An estimate too low only costs a split (post halves a
// payload over the limit).
func (r *Record) wire() int64 { return int64(len(r.Event.Raw))*5/4 + 384 + 64*int64(len(r.Detections)) }

// EventID is a stable id of one audit log line: a hash of the cluster name,
// the host name and the line's bytes, so that receivers can recognise an
// event sent twice (at least once means a crash may resend).
func EventID(cluster, host string, raw []byte) string {
	h := sha256.New()
	h.Write([]byte(cluster))
	h.Write([]byte{0})
	h.Write([]byte(host))
	h.Write([]byte{0})
	h.Write(raw)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// Identity is what every record of one kaudit process carries.
type Identity struct {
	Cluster string // k8s.cluster.name / kube_cluster_name tag
	Host    string // host.name / hostname
}

// Records turns decoded events into records: each event is cloned (with
// its own copy of Raw), so the batch's memory can be released.
func (id Identity) Records(evs []audit.Event, observed time.Time) []Record {
	out := make([]Record, len(evs))
	for i := range evs {
		ev := evs[i].Clone()
		rid := EventID(id.Cluster, id.Host, ev.Raw) // of the original line: stable whatever is shown
		ev.Raw = redact.Output(ev.Raw)
		out[i] = Record{Event: ev, ID: rid, Observed: observed}
	}
	return out
}

package forward

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// DatadogMaxEvent is the size above which the Datadog intake truncates an
// entry: such events are counted as oversize (and, with StripResponse,
// sent without their responseObject).
const DatadogMaxEvent = 1 << 20

// datadog is the Datadog v2 logs intake: a gzipped JSON array of entries,
// at most 1000 entries and 5 MB (uncompressed) per payload.
type datadog struct {
	id    Identity
	key   string
	tags  string
	strip bool
}

// ddEntry is one log entry of the v2 intake.
type ddEntry struct {
	Source    string `json:"ddsource"`
	Service   string `json:"service"`
	Hostname  string `json:"hostname,omitempty"`
	Tags      string `json:"ddtags,omitempty"`
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
	EventID   string `json:"kaudit.event_id"`
	From      string `json:"kaudit.source,omitempty"` // where the event was read: host, file or cluster
	// Detections are the rules the event hit (--detect): an attribute to
	// query (@kaudit.detections:exec-into-pod), and one tag
	// kaudit.detection:RULE each in ddtags, for monitors and facets.
	Detections []string `json:"kaudit.detections,omitempty"`
}

func (datadog) limits() (int, int)  { return 1000, 5_000_000 }
func (datadog) contentType() string { return "application/json" }

func (d datadog) header(h http.Header) { h.Set("DD-API-KEY", d.key) }

func (d datadog) encode(recs []Record) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('[')
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i := range recs {
		r := &recs[i]
		msg := r.Event.Raw
		if len(msg) > DatadogMaxEvent && d.strip {
			msg = stripResponse(msg)
		}
		ts := r.Event.StageTime
		if ts.IsZero() {
			ts = r.Observed
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(ddEntry{Source: "kubernetes.audit", Service: "audit", Hostname: d.id.Host, Tags: detectionTags(d.tags, r.Detections),
			Timestamp: ts.UnixMilli(), Message: string(msg), EventID: r.ID, From: r.Event.Source, Detections: r.Detections}); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

// stripResponse drops an event's responseObject (the bulk of big
// RequestResponse events); it returns raw unchanged if it cannot.
func stripResponse(raw []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	if _, ok := m["responseObject"]; !ok {
		return raw
	}
	delete(m, "responseObject")
	out, err := json.Marshal(m)
	if err != nil {
		return raw
	}
	return out
}

// judge: 2xx delivered; 408, 429 and 5xx retried; 413 split; anything
// else (400, 401, 403…) dead-lettered.
func (datadog) judge(status int, hdr http.Header, body []byte) verdict {
	switch {
	case status >= 200 && status < 300:
		return verdict{kind: vOK}
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		return verdict{kind: vRetry, msg: statusMsg(status, body), retryAfter: retryAfter(hdr)}
	case status == http.StatusRequestEntityTooLarge:
		return verdict{kind: vSplit, msg: statusMsg(status, body)}
	}
	return verdict{kind: vDrop, msg: statusMsg(status, body)}
}

// detectionTags adds a kaudit.detection:RULE tag per rule to tags (rule
// names are lower-case letters, digits and dashes: valid tag values).
func detectionTags(tags string, rules []string) string {
	if len(rules) == 0 {
		return tags
	}
	var b strings.Builder
	b.WriteString(tags)
	for _, r := range rules {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString("kaudit.detection:" + r)
	}
	return b.String()
}

// ddTags is the ddtags value: the cluster name, then extra tags.
func ddTags(id Identity, extra []string) string {
	var t []string
	if id.Cluster != "" {
		t = append(t, "kube_cluster_name:"+id.Cluster)
	}
	t = append(t, extra...)
	return strings.Join(t, ",")
}

func statusMsg(status int, body []byte) string {
	b := strings.TrimSpace(string(body))
	if len(b) > 200 {
		b = b[:200] + "…"
	}
	if b == "" {
		return fmt.Sprintf("HTTP %d", status)
	}
	return fmt.Sprintf("HTTP %d: %s", status, b)
}

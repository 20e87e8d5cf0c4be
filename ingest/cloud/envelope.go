package cloud

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// envelope holds the top-level fields of every shape Decode knows; which
// ones are set says which shape a value is.
type envelope struct {
	// audit.k8s.io
	Kind    string `json:"kind"`
	AuditID string `json:"auditID"`
	Stage   string `json:"stage"`

	// GKE LogEntry
	ProtoPayload *gkePayload       `json:"protoPayload"`
	Labels       map[string]string `json:"labels"`
	Operation    *gkeOperation     `json:"operation"`
	Resource     struct {
		Labels map[string]string `json:"labels"`
	} `json:"resource"`
	Timestamp json.RawMessage `json:"timestamp"` // a string in GKE, a number in CloudWatch

	// AKS
	Records    []json.RawMessage `json:"records"`
	Category   string            `json:"category"`
	ResourceID string            `json:"resourceId"`
	Properties *struct {
		Log json.RawMessage `json:"log"`
	} `json:"properties"`

	// CloudWatch
	MessageType string    `json:"messageType"`
	LogGroup    string    `json:"logGroup"`
	LogEvents   []cwEvent `json:"logEvents"`
	Events      []cwEvent `json:"events"` // filter-log-events, get-log-events
	Awslogs     *struct {
		Data string `json:"data"`
	} `json:"awslogs"`
}

type cwEvent struct {
	Message *string `json:"message"`
}

// handle decodes one JSON value at line and emits its events.
func (d *decoder) handle(raw []byte, line int64, depth int) {
	if depth > maxDepth {
		d.problem(line, Malformed, "envelopes nested too deep")
		return
	}
	if raw[0] == '[' { // gcloud logging read --format=json, or a list of records
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			d.problem(line, Malformed, "not a JSON array of objects: "+err.Error())
			return
		}
		bad := 0
		for _, it := range items {
			if it[0] != '{' && it[0] != '[' {
				bad++
				continue
			}
			d.handle(it, line, depth+1)
		}
		if bad > 0 {
			d.problem(line, Unrecognised, fmt.Sprintf("a JSON array with %d items that are not objects", bad))
		}
		return
	}
	var e envelope
	if err := json.Unmarshal(raw, &e); err != nil {
		d.problem(line, Unrecognised, "JSON whose fields have unexpected types: "+err.Error())
		return
	}
	switch {
	case e.ProtoPayload != nil:
		d.gke(&e, line)
	case e.Records != nil:
		for _, r := range e.Records {
			d.handle(r, line, depth+1)
		}
	case e.Properties != nil || e.Category != "":
		d.aks(&e, line)
	case e.MessageType != "" || e.LogEvents != nil:
		d.subscription(&e, line, depth)
	case e.Awslogs != nil:
		d.base64([]byte(e.Awslogs.Data), line, e.LogGroup, depth)
	case e.Events != nil && e.Kind == "":
		d.messages(e.Events, line, "", depth)
	case e.Kind == "Event" || e.Kind == "EventList" || (e.AuditID != "" && e.Stage != ""):
		d.emit(compact(raw), "", line, Plain)
	default:
		d.problem(line, Unrecognised, "JSON that is neither an audit event nor a cloud envelope kaudit knows")
	}
}

// aks takes the event out of an AKS diagnostic record.
func (d *decoder) aks(e *envelope, line int64) {
	if e.Category != "kube-audit" && e.Category != "kube-audit-admin" {
		d.problem(line, SkippedOther, fmt.Sprintf("Azure record of category %q, not kube-audit; skipped", e.Category))
		return
	}
	cluster := aksCluster(e.ResourceID)
	if e.Properties == nil || len(e.Properties.Log) == 0 || string(e.Properties.Log) == "null" {
		d.problem(line, NoEvent, "AKS record without properties.log")
		return
	}
	ev := []byte(e.Properties.Log)
	if ev[0] == '"' {
		var s string
		if err := json.Unmarshal(ev, &s); err != nil {
			d.problem(line, Malformed, "properties.log: "+err.Error())
			return
		}
		ev = []byte(strings.TrimSpace(s))
	}
	d.event(ev, cluster, line, AKS)
}

// event checks that an event taken out of a string is JSON, then emits it.
func (d *decoder) event(ev []byte, cluster string, line int64, s Shape) {
	switch {
	case len(ev) == 0:
		d.problem(line, NoEvent, s.String()+" with an empty event")
	case bytes.Contains(ev, []byte("skipped-too-big-size-object")) && !json.Valid(ev):
		d.problem(line, TooBig, "AKS dropped this event (skipped-too-big-size-object); it is lost")
	case klogLine(ev):
		d.problem(line, SkippedKlog, "klog text in a "+s.String()+"; skipped")
	case !json.Valid(ev):
		d.problem(line, Truncated, "the event inside the "+s.String()+" is not complete JSON")
	case ev[0] != '{':
		d.problem(line, NoEvent, s.String()+" whose event is not a JSON object")
	default:
		d.emit(compact(ev), cluster, line, s)
	}
}

// aksCluster is the last segment after MANAGEDCLUSTERS in a resource ID.
func aksCluster(id string) string {
	up := strings.ToUpper(id)
	i := strings.LastIndex(up, "/MANAGEDCLUSTERS/")
	if i < 0 {
		return ""
	}
	name := id[i+len("/MANAGEDCLUSTERS/"):]
	if j := strings.IndexByte(name, '/'); j >= 0 {
		name = name[:j]
	}
	return name
}

// subscription reads a CloudWatch Logs subscription-filter payload.
func (d *decoder) subscription(e *envelope, line int64, depth int) {
	if e.MessageType == "CONTROL_MESSAGE" {
		d.problem(line, SkippedOther, "CloudWatch CONTROL_MESSAGE; skipped")
		return
	}
	d.messages(e.LogEvents, line, eksCluster(e.LogGroup), depth)
}

func (d *decoder) messages(evs []cwEvent, line int64, cluster string, depth int) {
	for _, m := range evs {
		if m.Message == nil {
			d.problem(line, NoEvent, "CloudWatch log event without a message")
			continue
		}
		d.event([]byte(strings.TrimSpace(*m.Message)), cluster, line, CloudWatch)
	}
}

// eksCluster is <cluster> in the log group /aws/eks/<cluster>/cluster.
func eksCluster(group string) string {
	rest, ok := strings.CutPrefix(group, "/aws/eks/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// maxGunzip bounds what one base64 payload may expand to.
const maxGunzip = 256 << 20

// base64 reads a Lambda payload: base64 of gzip of a subscription payload.
func (d *decoder) base64(b64 []byte, line int64, cluster string, depth int) {
	zipped := make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	n, err := base64.StdEncoding.Decode(zipped, bytes.TrimSpace(b64))
	if err != nil {
		d.problem(line, NotGzip, "payload is not valid base64: "+err.Error())
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped[:n]))
	if err != nil {
		d.problem(line, NotGzip, "base64 payload is not gzip: "+err.Error())
		return
	}
	body, err := io.ReadAll(io.LimitReader(zr, maxGunzip))
	if err != nil {
		d.problem(line, Truncated, "base64 gzip payload ends early: "+err.Error())
		return
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || !json.Valid(body) {
		d.problem(line, Truncated, "the gzip payload is not one complete JSON value")
		return
	}
	_ = cluster
	d.handle(body, line, depth+1)
}

// compact makes an event one line (ingest reads events one per line).
func compact(ev []byte) []byte {
	if bytes.IndexByte(ev, '\n') < 0 && bytes.IndexByte(ev, '\r') < 0 {
		return ev
	}
	var b bytes.Buffer
	if json.Compact(&b, ev) != nil {
		return ev
	}
	return b.Bytes()
}

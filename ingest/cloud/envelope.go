package cloud

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/valyala/fastjson"
)

// handle decodes one JSON value at line and emits its events.
func (d *decoder) handle(raw []byte, line int64, depth int) {
	if depth > maxDepth {
		d.problem(line, Unrecognised, "envelopes nested too deep")
		return
	}
	// One parser per depth: a nested payload must not clobber the tree
	// of the envelope that holds it.
	v, err := d.parsers[depth].ParseBytes(raw)
	if err != nil {
		d.problem(line, Malformed, "malformed JSON: "+err.Error())
		return
	}
	d.handleValue(v, raw, line, depth)
}

// handleValue dispatches on the members only each shape has. raw is v's
// bytes when known (nil for a value inside another).
func (d *decoder) handleValue(v *fastjson.Value, raw []byte, line int64, depth int) {
	if v.Type() == fastjson.TypeArray { // gcloud logging read --format=json, or a list of records
		bad := 0
		for _, it := range v.GetArray() {
			if t := it.Type(); t != fastjson.TypeObject && t != fastjson.TypeArray {
				bad++
				continue
			}
			d.handleValue(it, nil, line, depth)
		}
		if bad > 0 {
			d.problem(line, Unrecognised, fmt.Sprintf("a JSON array with %d items that are not objects", bad))
		}
		return
	}
	if v.Type() != fastjson.TypeObject {
		d.problem(line, Unrecognised, "a JSON "+v.Type().String()+", not an object")
		return
	}
	kind := v.Get("kind")
	switch {
	case v.Exists("protoPayload") && d.gkeHook != nil:
		d.gkeHook(d, v, raw, line)
	case v.Exists("protoPayload"):
		d.gke(v, line)
	case v.Exists("records"):
		recs, err := v.Get("records").Array()
		if err != nil {
			d.problem(line, Unrecognised, "records is not an array")
			return
		}
		for _, r := range recs {
			d.handleValue(r, nil, line, depth)
		}
	case v.Exists("properties") || v.Exists("category"):
		d.aks(v, line)
	case v.Exists("messageType") || v.Exists("logEvents"):
		d.subscription(v, line)
	case v.Exists("awslogs"):
		d.base64(v.GetStringBytes("awslogs", "data"), line, depth)
	case v.Exists("events") && kind == nil:
		d.messages(v.Get("events"), line, "")
	case kind != nil && kind.Type() != fastjson.TypeString:
		d.problem(line, Unrecognised, "kind is not a string")
	case isEvent(v):
		if ev, ok := compact(marshal(v, raw)); ok {
			d.emit(ev, "", line, Plain)
		} else {
			d.problem(line, Malformed, "an audit event that is not valid JSON")
		}
	default:
		d.problem(line, Unrecognised, "JSON that is neither an audit event nor a cloud envelope kaudit knows")
	}
}

func isEvent(v *fastjson.Value) bool {
	k := string(v.GetStringBytes("kind"))
	return k == "Event" || k == "EventList" || (len(v.GetStringBytes("auditID")) > 0 && len(v.GetStringBytes("stage")) > 0)
}

// marshal gives v's bytes: raw when the caller has them, else v written out.
func marshal(v *fastjson.Value, raw []byte) []byte {
	if raw != nil {
		return raw
	}
	return v.MarshalTo(nil)
}

// aks takes the event out of an AKS diagnostic record.
func (d *decoder) aks(v *fastjson.Value, line int64) {
	cat := string(v.GetStringBytes("category"))
	if cat != "kube-audit" && cat != "kube-audit-admin" {
		d.problem(line, SkippedOther, fmt.Sprintf("Azure record of category %q, not kube-audit; skipped", cat))
		return
	}
	cluster := aksCluster(string(v.GetStringBytes("resourceId")))
	log := v.Get("properties", "log")
	var ev []byte
	switch {
	case log == nil || log.Type() == fastjson.TypeNull:
		d.problem(line, NoEvent, "AKS record without properties.log")
		return
	case log.Type() == fastjson.TypeString:
		ev = bytes.TrimSpace(log.GetStringBytes())
	default:
		ev = log.MarshalTo(nil)
	}
	d.event(ev, cluster, line, AKS)
}

// event checks an event taken out of an envelope, then emits a copy of
// it (the parser's memory is reused).
func (d *decoder) event(ev []byte, cluster string, line int64, s Shape) {
	switch {
	case len(ev) == 0:
		d.problem(line, NoEvent, s.String()+" with an empty event")
	case ev[0] != '{' && bytes.HasPrefix(ev, []byte("skipped-too-big-size-object")):
		d.problem(line, TooBig, "AKS dropped this event (skipped-too-big-size-object); it is lost")
	case klogLine(ev):
		d.problem(line, SkippedKlog, "klog text in a "+s.String()+"; skipped")
	case ev[0] != '{':
		d.problem(line, NoEvent, s.String()+" whose event is not a JSON object")
	case ev[len(ev)-1] != '}':
		// A cheap check for the usual damage, a cut-off event; the reader
		// of the events validates them in full (and says where).
		d.problem(line, Truncated, "the event inside the "+s.String()+" is cut off")
	default:
		ev, ok := compact(bytes.Clone(ev))
		if !ok {
			d.problem(line, Malformed, "the event inside the "+s.String()+" is not valid JSON")
			return
		}
		d.emit(ev, cluster, line, s)
	}
}

// aksCluster is the last segment after MANAGEDCLUSTERS in a resource ID.
func aksCluster(id string) string {
	const key = "/MANAGEDCLUSTERS/"
	// ASCII case folding only: strings.ToUpper changes the length of some
	// other characters, and its indexes would not be id's (a fuzz find).
	i := len(id) - len(key)
	for ; i >= 0 && !asciiEqualFold(id[i:i+len(key)], key); i-- {
	}
	if i < 0 {
		return ""
	}
	name := id[i+len(key):]
	if j := strings.IndexByte(name, '/'); j >= 0 {
		name = name[:j]
	}
	return name
}

func asciiEqualFold(s, upper string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != upper[i] {
			return false
		}
	}
	return true
}

// subscription reads a CloudWatch Logs subscription-filter payload.
func (d *decoder) subscription(v *fastjson.Value, line int64) {
	if string(v.GetStringBytes("messageType")) == "CONTROL_MESSAGE" {
		d.problem(line, SkippedOther, "CloudWatch CONTROL_MESSAGE; skipped")
		return
	}
	d.messages(v.Get("logEvents"), line, eksCluster(string(v.GetStringBytes("logGroup"))))
}

func (d *decoder) messages(evs *fastjson.Value, line int64, cluster string) {
	if evs == nil {
		d.problem(line, NoEvent, "CloudWatch payload without logEvents")
		return
	}
	arr, err := evs.Array()
	if err != nil {
		d.problem(line, Unrecognised, "CloudWatch log events that are not an array")
		return
	}
	for _, m := range arr {
		d.message(m, line, cluster)
	}
}

// message takes the event out of one CloudWatch log event.
func (d *decoder) message(m *fastjson.Value, line int64, cluster string) {
	msg := m.Get("message")
	if msg == nil || msg.Type() != fastjson.TypeString {
		d.problem(line, NoEvent, "CloudWatch log event without a message")
		return
	}
	d.event(bytes.TrimSpace(msg.GetStringBytes()), cluster, line, CloudWatch)
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
func (d *decoder) base64(b64 []byte, line int64, depth int) {
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
	if len(body) == 0 || fastjson.ValidateBytes(body) != nil {
		d.problem(line, Truncated, "the gzip payload is not one complete JSON value")
		return
	}
	d.handle(body, line, depth+1)
}

// compact makes an event one line (ingest reads events one per line);
// false when it spans lines and is not valid JSON.
func compact(ev []byte) ([]byte, bool) {
	if bytes.IndexByte(ev, '\n') < 0 && bytes.IndexByte(ev, '\r') < 0 {
		return ev, true
	}
	var b bytes.Buffer
	if json.Compact(&b, ev) != nil {
		return nil, false
	}
	return b.Bytes(), true
}

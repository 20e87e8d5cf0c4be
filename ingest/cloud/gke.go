package cloud

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// grpcHTTP maps google.rpc.Code to the HTTP status the API server would
// have answered. OK is 200: a 201 (create) cannot be told from it.
var grpcHTTP = map[int]int{
	0: 200, 1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429,
	9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401,
}

// gke turns a Cloud Audit Logs entry for k8s.io into an audit event. The
// entry is read straight from the parsed tree and the event written by
// hand: going through encoding/json (as the first version did, kept as
// gkeReference in the tests) cost four times the parse. The bodies, most
// of an entry's bytes, are written back as they are, less "@type".
func (d *decoder) gke(v *fastjson.Value, line int64) {
	e := gkeFields{labels: d.labels[:0]}
	e.entry(v)
	defer func() { d.labels = e.labels[:0] }() // reused: no allocation per entry
	if e.bad || !e.payload {
		d.problem(line, Unrecognised, "a Cloud Logging entry whose fields have unexpected types")
		return
	}
	if len(e.p.service) == 0 && len(e.p.method) == 0 {
		d.problem(line, NoEvent, "Cloud Logging entry without serviceName or methodName")
		return
	}
	// Some exports leave serviceName out; the method name still says k8s.
	if string(e.p.service) != "k8s.io" && (len(e.p.service) != 0 || !bytes.HasPrefix(e.p.method, []byte("io.k8s."))) {
		d.problem(line, SkippedOther, fmt.Sprintf("Cloud Audit Log entry for %q, not k8s.io; skipped", fixUTF8(e.p.service)))
		return
	}
	if len(e.p.method) == 0 {
		d.problem(line, NoEvent, "GKE entry without protoPayload.methodName")
		return
	}
	http, ok := grpcHTTP[e.p.code]
	if !ok {
		d.problem(line, UnknownCode, fmt.Sprintf("unknown gRPC status code %d; event kept without a response code", e.p.code))
	}
	out := e.event(make([]byte, 0, 1024), http, ok)
	if pp := v.Get("protoPayload"); pp != nil && pp.Type() == fastjson.TypeObject {
		out = appendValue(out, "requestObject", pp.Get("request"))
		out = appendValue(out, "responseObject", pp.Get("response"))
	}
	d.emit(out, d.clusterName(e.cluster), line, GKE)
}

// gkeFields is what an event is made of, read from a LogEntry with
// encoding/json's rules, so that the events are the ones it would give:
// keys match case-insensitively, the last of duplicate keys wins (objects
// under duplicate keys merge), null leaves a value as it was (a pointer
// or map becomes nil), and a member of an unexpected type makes the entry
// unreadable. The byte slices alias the parser's memory.
type gkeFields struct {
	p                    payloadFields
	payload              bool    // protoPayload is an object (the pointer is not nil)
	labels               []label // sorted by key, keys unique
	opID, cluster, stamp []byte
	first, last, op      bool // op: operation is an object
	stampSet, bad        bool
}

// payloadFields is what is read from protoPayload.
type payloadFields struct {
	service, method, resource, email, subject []byte
	ip, agent, message                        []byte
	status, hasCode                           bool
	code                                      int
}

type label struct{ key, value []byte }

// members calls fn for each member of an object value. null does
// nothing; another type marks the entry bad.
func (e *gkeFields) members(v *fastjson.Value, fn func(key []byte, m *fastjson.Value)) {
	switch v.Type() {
	case fastjson.TypeNull:
	case fastjson.TypeObject:
		o, _ := v.Object()
		o.Visit(fn)
	default:
		e.bad = true
	}
}

// str reads a string member into dst; null leaves dst as it was.
func (e *gkeFields) str(m *fastjson.Value, dst *[]byte) {
	switch m.Type() {
	case fastjson.TypeString:
		*dst = m.GetStringBytes()
	case fastjson.TypeNull:
	default:
		e.bad = true
	}
}

func (e *gkeFields) boolean(m *fastjson.Value, dst *bool) {
	switch m.Type() {
	case fastjson.TypeTrue, fastjson.TypeFalse:
		*dst = m.Type() == fastjson.TypeTrue
	case fastjson.TypeNull:
	default:
		e.bad = true
	}
}

// field is the name among names that key matches as encoding/json
// matches a member to a struct field: exactly, else case-insensitively
// (with Unicode folding: the Kelvin sign is a k); "" when none does.
func field(key []byte, names []string) string {
	for _, n := range names {
		if string(key) == n {
			return n
		}
	}
	long := !ascii(key) // folding can change a non-ASCII key's length
	for _, n := range names {
		if (len(key) == len(n) || long) && bytes.EqualFold(key, []byte(n)) {
			return n
		}
	}
	return ""
}

var (
	entryKeys     = []string{"protoPayload", "labels", "operation", "resource", "timestamp"}
	payloadKeys   = []string{"serviceName", "methodName", "resourceName", "authenticationInfo", "requestMetadata", "status"}
	authKeys      = []string{"principalEmail", "principalSubject"}
	metadataKeys  = []string{"callerIp", "callerSuppliedUserAgent"}
	statusKeys    = []string{"code", "message"}
	operationKeys = []string{"id", "first", "last"}
	labelsKey     = []string{"labels"}
)

func ascii(p []byte) bool {
	for _, c := range p {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// entry reads the LogEntry's members.
func (e *gkeFields) entry(v *fastjson.Value) {
	e.members(v, func(k []byte, m *fastjson.Value) {
		switch field(k, entryKeys) {
		case "protoPayload":
			e.protoPayload(m)
		case "labels":
			e.labelMap(m)
		case "operation":
			e.operation(m)
		case "resource":
			e.members(m, func(k []byte, m *fastjson.Value) {
				if field(k, labelsKey) != "" {
					e.resourceLabelMap(m)
				}
			})
		case "timestamp":
			// Any JSON value is taken; only a string is a time.
			e.stamp, e.stampSet = nil, false
			if m.Type() == fastjson.TypeString {
				e.stamp, e.stampSet = m.GetStringBytes(), true
			}
		}
	})
}

func (e *gkeFields) protoPayload(m *fastjson.Value) {
	if m.Type() == fastjson.TypeNull { // the pointer becomes nil: what was read goes
		e.p, e.payload = payloadFields{}, false
		return
	}
	if m.Type() == fastjson.TypeObject {
		e.payload = true
	}
	e.members(m, func(k []byte, m *fastjson.Value) {
		switch field(k, payloadKeys) {
		case "serviceName":
			e.str(m, &e.p.service)
		case "methodName":
			e.str(m, &e.p.method)
		case "resourceName":
			e.str(m, &e.p.resource)
		case "authenticationInfo":
			e.members(m, func(k []byte, m *fastjson.Value) {
				switch field(k, authKeys) {
				case "principalEmail":
					e.str(m, &e.p.email)
				case "principalSubject":
					e.str(m, &e.p.subject)
				}
			})
		case "requestMetadata":
			e.members(m, func(k []byte, m *fastjson.Value) {
				switch field(k, metadataKeys) {
				case "callerIp":
					e.str(m, &e.p.ip)
				case "callerSuppliedUserAgent":
					e.str(m, &e.p.agent)
				}
			})
		case "status":
			e.statusObject(m)
		}
	})
}

func (e *gkeFields) statusObject(m *fastjson.Value) {
	if m.Type() == fastjson.TypeNull {
		e.p.status, e.p.hasCode, e.p.code, e.p.message = false, false, 0, nil
		return
	}
	if m.Type() == fastjson.TypeObject {
		e.p.status = true
	}
	e.members(m, func(k []byte, m *fastjson.Value) {
		switch field(k, statusKeys) {
		case "code":
			switch m.Type() {
			case fastjson.TypeNull:
				e.p.hasCode, e.p.code = false, 0
			case fastjson.TypeNumber:
				// encoding/json takes an integer only: 7.0 and 1e1 are errors.
				n, err := strconv.ParseInt(string(m.MarshalTo(nil)), 10, 64)
				if err != nil {
					e.bad = true
					return
				}
				e.p.hasCode, e.p.code = true, int(n)
			default:
				e.bad = true
			}
		case "message":
			e.str(m, &e.p.message)
		}
	})
}

func (e *gkeFields) operation(m *fastjson.Value) {
	if m.Type() == fastjson.TypeNull {
		e.op, e.opID, e.first, e.last = false, nil, false, false
		return
	}
	if m.Type() == fastjson.TypeObject {
		e.op = true
	}
	e.members(m, func(k []byte, m *fastjson.Value) {
		switch field(k, operationKeys) {
		case "id":
			e.str(m, &e.opID)
		case "first":
			e.boolean(m, &e.first)
		case "last":
			e.boolean(m, &e.last)
		}
	})
}

// labelMap reads labels, a map[string]string: entries are added to what
// earlier duplicates gave; null makes the map nil; a null value is "".
func (e *gkeFields) labelMap(m *fastjson.Value) {
	if m.Type() == fastjson.TypeNull {
		e.labels = nil
		return
	}
	e.members(m, func(k []byte, m *fastjson.Value) {
		var val []byte
		e.str(m, &val)
		e.setLabel(k, val)
	})
}

func (e *gkeFields) setLabel(k, val []byte) {
	// Keys compare as encoding/json's map keys do: after invalid UTF-8
	// is replaced.
	k = fixUTF8(k)
	i, found := searchLabel(e.labels, k)
	if found {
		e.labels[i].value = val
		return
	}
	e.labels = append(e.labels, label{})
	copy(e.labels[i+1:], e.labels[i:])
	e.labels[i] = label{key: k, value: val}
}

func searchLabel(ls []label, k []byte) (int, bool) {
	lo, hi := 0, len(ls)
	for lo < hi {
		mid := (lo + hi) / 2
		if bytes.Compare(ls[mid].key, k) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < len(ls) && bytes.Equal(ls[lo].key, k)
}

// resourceLabelMap reads resource.labels for its cluster_name (and the
// other values' types).
func (e *gkeFields) resourceLabelMap(m *fastjson.Value) {
	if m.Type() == fastjson.TypeNull {
		e.cluster = nil
		return
	}
	e.members(m, func(k []byte, m *fastjson.Value) {
		var val []byte
		e.str(m, &val)
		if string(fixUTF8(k)) == "cluster_name" {
			e.cluster = val
		}
	})
}

// event writes the audit.k8s.io/v1 Event, byte for byte as json.Marshal
// wrote the first version's struct: the same member order, empty members
// left out, annotations sorted by key.
func (e *gkeFields) event(b []byte, http int, hasHTTP bool) []byte {
	b = append(b, `{"kind":"Event","apiVersion":"audit.k8s.io/v1"`...)
	if e.op && len(e.opID) > 0 {
		b = member(b, "auditID", e.opID)
	}
	stage := "ResponseComplete"
	if e.op && e.first && !e.last {
		stage = "ResponseStarted" // a long-running request (watch, exec): its end comes in a later entry
	}
	b = append(b, `,"stage":"`...)
	b = append(b, stage...)
	b = append(b, '"')
	ref, isRef, uri := gkeResource(string(fixUTF8(e.p.resource)))
	if uri != "" {
		b = member(b, "requestURI", []byte(uri))
	}
	verb := e.p.method[bytes.LastIndexByte(e.p.method, '.')+1:]
	if len(verb) > 0 {
		b = member(b, "verb", verb)
	}
	b = append(b, `,"user":{`...)
	user := e.p.email
	if len(user) == 0 {
		user = e.p.subject
	}
	if len(user) > 0 {
		b = appendString(append(b, `"username":`...), user)
	}
	b = append(b, '}')
	if len(e.p.ip) > 0 {
		b = append(appendString(append(b, `,"sourceIPs":[`...), e.p.ip), ']')
	}
	if len(e.p.agent) > 0 {
		b = member(b, "userAgent", e.p.agent)
	}
	if isRef {
		b = appendRef(b, &ref)
	}
	if hasHTTP {
		b = append(b, `,"responseStatus":{"code":`...)
		b = strconv.AppendInt(b, int64(http), 10)
		if e.p.status && len(e.p.message) > 0 {
			b = member(b, "message", e.p.message)
		}
		b = append(b, '}')
	}
	if e.stampSet && len(e.stamp) > 0 {
		b = member(b, "stageTimestamp", e.stamp)
	}
	if len(e.labels) > 0 {
		b = append(b, `,"annotations":{`...)
		for i, l := range e.labels {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendString(b, l.key), ':')
			b = appendString(b, l.value)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendRef(b []byte, r *v1ObjectRef) []byte {
	b = append(b, `,"objectRef":{`...)
	n := len(b)
	for _, f := range [...]struct{ k, v string }{{"resource", r.Resource}, {"namespace", r.Namespace}, {"name", r.Name},
		{"apiGroup", r.APIGroup}, {"apiVersion", r.APIVersion}, {"subresource", r.Subresource}} {
		if f.v != "" {
			if len(b) > n {
				b = append(b, ',')
			}
			b = appendString(append(append(append(b, '"'), f.k...), `":`...), []byte(f.v))
		}
	}
	return append(b, '}')
}

// member appends ,"key":"value".
func member(b []byte, key string, val []byte) []byte {
	b = append(append(append(b, `,"`...), key...), `":`...)
	return appendString(b, val)
}

type v1ObjectRef struct {
	Resource    string `json:"resource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`
	APIGroup    string `json:"apiGroup,omitempty"`
	APIVersion  string `json:"apiVersion,omitempty"`
	Subresource string `json:"subresource,omitempty"`
}

// gkeResource parses resourceName: GROUP/VERSION[/namespaces/NS]/RESOURCE[/NAME[/SUB]],
// with group "core" for the core group. Anything else is a non-resource
// path (readyz, version), given back as the request URI.
func gkeResource(name string) (ref v1ObjectRef, isRef bool, uri string) {
	if name == "" {
		return ref, false, ""
	}
	group, r, ok1 := strings.Cut(name, "/")
	version, rest, ok2 := strings.Cut(r, "/")
	if !ok1 || !ok2 || len(version) < 2 || version[0] != 'v' || version[1] < '0' || version[1] > '9' {
		return ref, false, "/" + name
	}
	ref.APIGroup, ref.APIVersion = group, version
	if group == "core" {
		ref.APIGroup = ""
	}
	if first, after, _ := strings.Cut(rest, "/"); first == "namespaces" && strings.IndexByte(after, '/') >= 0 {
		ref.Namespace, rest, _ = strings.Cut(after, "/")
	}
	ref.Resource, rest, _ = strings.Cut(rest, "/")
	ref.Name, ref.Subresource, _ = strings.Cut(rest, "/")
	return ref, true, ""
}

// withoutType gives a body's JSON without the "@type" member protobuf
// JSON adds, or nil when there is no body object.
func withoutType(body *fastjson.Value) []byte {
	if body == nil || body.Type() != fastjson.TypeObject {
		return nil
	}
	body.Del("@type")
	return body.MarshalTo(nil)
}

// appendValue adds "key":body as the last member of the object ev, body
// without the "@type" member protobuf JSON adds; nothing when body is not
// an object.
func appendValue(ev []byte, key string, body *fastjson.Value) []byte {
	if body == nil || body.Type() != fastjson.TypeObject {
		return ev
	}
	body.Del("@type")
	ev = append(ev[:len(ev)-1], `,"`...)
	ev = append(ev, key...)
	ev = append(ev, `":`...)
	return append(body.MarshalTo(ev), '}')
}

// clusterName is name as a string, the previous one's when they are the
// same (most entries of a file name one cluster).
func (d *decoder) clusterName(name []byte) string {
	name = fixUTF8(name)
	if string(name) != d.cluster {
		d.cluster = string(name)
	}
	return d.cluster
}

// appendBody adds "key":body as the last member of the object ev.
func appendBody(ev []byte, key string, body []byte) []byte {
	if body == nil {
		return ev
	}
	ev = append(ev[:len(ev)-1], `,"`...)
	ev = append(ev, key...)
	ev = append(ev, `":`...)
	ev = append(ev, body...)
	return append(ev, '}')
}

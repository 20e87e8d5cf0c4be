package audit

import "unicode/utf8"

// This file decodes the fields of one audit event straight into an Event.
// The rules are encoding/json's for the reference types in decode_std_test.go:
// null leaves strings and structs alone and sets slices and maps to nil, a
// repeated key decodes again into the same place (structs and maps merge,
// slices are reused), and a value of the wrong type is remembered as the
// first type error while decoding goes on.

// eventField numbers the keys of an audit event object (plus the EventList
// keys, which only the top level has).
type eventField uint8

const (
	fUnknown eventField = iota
	fKind
	fAPIVersion
	fItems
	fAuditID
	fStage
	fLevel
	fVerb
	fRequestURI
	fUser
	fImpersonatedUser
	fSourceIPs
	fUserAgent
	fObjectRef
	fResponseStatus
	fAnnotations
	fRequestReceivedTimestamp
	fStageTimestamp
	fTimestamp
	fMetadata
)

var eventFieldNames = []string{
	"kind", "apiVersion", "items", "auditID", "stage", "level", "verb", "requestURI", "user",
	"impersonatedUser", "sourceIPs", "userAgent", "objectRef", "responseStatus", "annotations",
	"requestReceivedTimestamp", "stageTimestamp", "timestamp", "metadata",
}

// The key tables of the objects decoded, with the keys in the order the
// API server writes them; the skipped names are the keys of no interest
// that it writes in every event.
var (
	eventKeys = newKeyTable(eventFieldNames, int(fKind), []string{"kind", "apiVersion", "level",
		"auditID", "stage", "requestURI", "verb", "user", "impersonatedUser", "sourceIPs", "userAgent",
		"objectRef", "responseStatus", "requestObject", "responseObject", "requestReceivedTimestamp",
		"stageTimestamp", "annotations"}, "requestObject", "responseObject")
	userKeys      = newKeyTable(userFieldNames, 0, []string{"username", "uid", "groups", "extra"}, "uid", "extra")
	objectRefKeys = newKeyTable(objectRefFieldNames, 0, []string{"resource", "namespace", "name", "uid",
		"apiGroup", "apiVersion", "resourceVersion", "subresource"}, "uid", "resourceVersion")
	statusKeys = newKeyTable(statusFieldNames, 0, []string{"metadata", "status", "message", "reason",
		"details", "code"}, "metadata", "status", "reason", "details")
	metadataKeys = newKeyTable(metadataFieldNames, 0, []string{"creationTimestamp"})
)

var (
	userFieldNames      = []string{"username", "groups"}
	objectRefFieldNames = []string{"apiGroup", "apiVersion", "resource", "subresource", "namespace", "name"}
	statusFieldNames    = []string{"code", "message"}
	metadataFieldNames  = []string{"creationTimestamp"}
)

// fieldOf is the lookup for the small nested objects, where a loop over the
// names costs no more than a switch.
func fieldOf(key string, names []string) int {
	for i, n := range names {
		if key == n {
			return i
		}
	}
	return lookupFold(key, names)
}

// docFields are the EventList-level keys of a top-level document.
type docFields struct {
	kind, apiVersion string
}

// eventScratch holds what an event needs until its object is complete.
type eventScratch struct {
	stage, level string
	ts           timestamps
	// reusing[i] is set once the user's (i=0) or impersonated user's (i=1)
	// groups slice is kept exactly as encoding/json would hold it; see groups.
	reusing [2]bool
}

func (s *eventScratch) finish(e *Event, raw []byte, high bool) {
	e.Stage = ParseStage(s.stage)
	e.Level = ParseLevel(s.level)
	s.ts.resolve(e)
	if len(e.Phases) == 0 {
		e.Phases = nil // the reference has none unless an annotation survived
	}
	e.normalize()
	e.BadUTF8 = high && !utf8.Valid(raw)
	e.Raw = raw
}

// event decodes the object at d.pos into e. top is nil for an EventList
// item: items are decoded as bare events, for which kind, apiVersion and
// items are unknown keys (skipped, whatever their type).
func (d *decoder) event(e *Event, s *eventScratch, top *docFields) {
	prefix, hint := "", 0
	var more bool
	if top != nil && d.eventPrefix(top) {
		more, hint = true, 2 // what follows apiVersion in eventKeys.order
	} else {
		more = d.objBegin()
	}
	for ; more; more = d.objNext() {
		id, ok := d.key(eventKeys, &hint)
		if !ok {
			return
		}
		switch f := eventField(id); f {
		case fKind, fAPIVersion, fItems:
			switch {
			case top == nil:
				d.skipValue()
			case f == fKind:
				d.strVal(&top.kind, "", "kind", "")
			case f == fAPIVersion:
				d.strVal(&top.apiVersion, "", "apiVersion", "")
			default:
				d.items()
			}
		case fAuditID:
			d.strVal(&e.AuditID, prefix, "auditID", "")
		case fStage:
			d.strVal(&s.stage, prefix, "stage", "")
		case fLevel:
			d.strVal(&s.level, prefix, "level", "")
		case fVerb:
			d.strField(&e.Verb, FieldVerb, prefix, "verb")
		case fRequestURI:
			d.strField(&e.RequestURI, FieldRequestURI, prefix, "requestURI")
		case fUser:
			d.user(&e.User, &s.reusing[0], FieldUser, prefix, "user")
		case fImpersonatedUser:
			d.user(&e.Impersonated, &s.reusing[1], FieldImpersonated, prefix, "impersonatedUser")
		case fSourceIPs:
			d.sourceIPs(&e.SourceIP, prefix)
		case fUserAgent:
			d.strField(&e.UserAgent, FieldUserAgent, prefix, "userAgent")
		case fObjectRef:
			d.objectRef(&e.Object, prefix)
		case fResponseStatus:
			d.responseStatus(e, prefix)
		case fAnnotations:
			d.annotations(e, prefix)
		case fRequestReceivedTimestamp:
			d.strVal(&s.ts.received, prefix, "requestReceivedTimestamp", "")
		case fStageTimestamp:
			d.strVal(&s.ts.stage, prefix, "stageTimestamp", "")
		case fTimestamp:
			d.strVal(&s.ts.legacy, prefix, "timestamp", "")
		case fMetadata:
			d.metadata(&s.ts.created, prefix)
		default:
			d.skipValue()
		}
	}
}

// mismatch records the value at d.pos as being of the wrong type for the
// field named prefix+a+b (the concatenation happens only here, off the hot
// path) and skips it.
func (d *decoder) mismatch(prefix, a, b string) {
	if d.typErr == "" {
		if kind := valueKind(d.data[d.pos]); kind != "" {
			d.typErr = "field " + prefix + a + b + " holds a JSON " + kind
		}
	}
	d.skipValue()
}

// valueKind names a JSON value by its first byte as encoding/json's
// UnmarshalTypeError does; "" for a byte that starts no value (skipValue
// will report the syntax error).
func valueKind(c byte) string {
	switch {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "bool"
	case c == 'n':
		return "null"
	case c == '-' || '0' <= c && c <= '9':
		return "number"
	}
	return ""
}

// strVal decodes a string field; null leaves it unchanged. A plain
// string's end is found here, without a call to str.
func (d *decoder) strVal(dst *string, prefix, a, b string) {
	data, start := d.data, d.pos+1
	switch data[d.pos] {
	case '"':
		if i := d.win.quickEnd(data, start); i >= 0 {
			d.pos = i + 1
			*dst = bytesString(data[start:i])
			return
		}
		*dst = d.strRest()
	case 'n':
		d.literal("null")
	default:
		d.mismatch(prefix, a, b)
	}
}

// strField is strVal for a top-level field of group f (named a), or
// strCheck when the decoder does not keep f.
func (d *decoder) strField(dst *string, f Fields, prefix, a string) {
	if d.leftOut&f != 0 {
		d.strCheck(prefix, a, "")
		return
	}
	d.strVal(dst, prefix, a, "")
}

// strCheck is strVal for a value nobody reads: it validates and type-checks
// without decoding.
func (d *decoder) strCheck(prefix, a, b string) {
	switch d.data[d.pos] {
	case '"':
		d.skipString()
	case 'n':
		d.literal("null")
	default:
		d.mismatch(prefix, a, b)
	}
}

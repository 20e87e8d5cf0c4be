package audit

// Decode decodes one JSON document — a line of an audit log, a webhook body,
// or a pretty-printed document — and appends the audit events it holds to
// dst: one for an Event, one per item for an EventList.
//
// Errors: *SyntaxError when doc is not valid JSON; *UnrecognisedError when it
// is valid JSON but not an audit Event or EventList; *ItemError when some
// items of an EventList could not be decoded (the others are still appended).
// Each returned event's Raw is a subslice of doc, and its strings alias doc
// too unless they held escapes or invalid UTF-8 (see Event.Clone). Which
// documents are valid, and what they decode to, is exactly what
// encoding/json would say for the audit.k8s.io types: FuzzDecode holds the
// decoder to that.
//
// The event is decoded in place in dst's spare room, which is grown first
// when there is none, so take the returned slice as append's, error or
// not: it may be a new array, and dst's room past its length is
// overwritten even when nothing is appended.
func Decode(doc []byte, dst []Event) ([]Event, error) {
	return decodeFast(doc, dst)
}

// DecodeArena is Decode, except that the strings it must unescape (or
// repair) are written into the spare capacity of *arena, which it extends,
// instead of fresh allocations: they alias the arena. When the arena is
// full they are allocated as Decode does. A reader decoding many events
// whose buffers it reuses passes one arena per buffer, reused with it.
func DecodeArena(doc []byte, dst []Event, arena *[]byte) ([]Event, error) {
	return decodeInto(doc, dst, arena, AllFields)
}

// DecodeFields is DecodeArena keeping only the fields in keep (see
// Fields; the zero Fields keeps all); arena may be nil (as for Decode).
// Which documents are accepted, and the errors, are Decode's whatever
// keep says.
func DecodeFields(doc []byte, dst []Event, arena *[]byte, keep Fields) ([]Event, error) {
	return decodeInto(doc, dst, arena, keep.normal())
}

// Decoder decodes documents as DecodeFields does, keeping Fields (0: all),
// and keeps its scratch memory from one document to the next (half a
// kilobyte of string masks that a fresh decoder clears for each). A
// reader decoding many documents on one goroutine holds one. Its zero
// value is ready to use; it is not safe for concurrent use.
type Decoder struct {
	Fields Fields
	d      decoder
}

// Decode is DecodeFields(doc, dst, arena, dec.Fields).
func (dec *Decoder) Decode(doc []byte, dst []Event, arena *[]byte) ([]Event, error) {
	return dec.d.decode(doc, dst, arena, dec.Fields.normal())
}

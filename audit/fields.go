package audit

// Fields is a set of the Event fields a decoder keeps (DecodeFields). A
// field left out is still validated and type-checked exactly as when it is
// kept (the same documents are accepted and rejected, with the same
// errors), but it is not stored: it stays zero, and its string is neither
// unescaped nor copied into the arena. What an event's identity, its kind
// and its timing need is always kept: AuditID, Stage, Level, Code,
// Received, StageTime, BadUTF8, BadTime and Raw (Source is the reader's).
//
// The zero Fields keeps everything, as AllFields does; NoFields keeps only
// what is always kept.
//
// Event's methods read fields too: LongRunning reads Verb, RequestURI and
// Object.Subresource (FieldVerb, FieldRequestURI, FieldSubresource);
// Denied reads Decision (FieldDecision) and Code; Subject reads User and
// Impersonated (FieldUser, FieldImpersonated and their groups).
type Fields uint32

// The groups of fields, one per way the decoder stores a value.
const (
	FieldVerb               Fields = 1 << iota // Verb
	FieldRequestURI                            // RequestURI
	FieldUser                                  // User.Name
	FieldUserGroups                            // User.Groups
	FieldImpersonated                          // Impersonated.Name
	FieldImpersonatedGroups                    // Impersonated.Groups
	FieldSourceIP                              // SourceIP
	FieldUserAgent                             // UserAgent
	FieldObject                                // Object but its Subresource
	FieldMessage                               // Message (responseStatus.message)
	FieldDecision                              // Decision
	FieldReason                                // Reason
	FieldPhases                                // Phases
	FieldSubresource                           // Object.Subresource (LongRunning reads it)

	// AllFields keeps every field (as the zero Fields does).
	AllFields = FieldSubresource<<1 - 1
	// NoFields keeps only the fields always kept.
	NoFields Fields = 1 << 31
)

// normal is f as the decoder tests it: the zero Fields made AllFields, and
// bits of no group (NoFields) cleared.
func (f Fields) normal() Fields {
	if f == 0 {
		return AllFields
	}
	return f & AllFields
}

// Clear zeroes the fields of e that f does not keep: what decoding with f
// leaves of the event decoding with AllFields gives.
func (f Fields) Clear(e *Event) {
	f = f.normal()
	drop := func(g Fields) bool { return f&g == 0 }
	if drop(FieldVerb) {
		e.Verb = ""
	}
	if drop(FieldRequestURI) {
		e.RequestURI = ""
	}
	if drop(FieldUser) {
		e.User.Name = ""
	}
	if drop(FieldUserGroups) {
		e.User.Groups = nil
	}
	if drop(FieldImpersonated) {
		e.Impersonated.Name = ""
	}
	if drop(FieldImpersonatedGroups) {
		e.Impersonated.Groups = nil
	}
	if drop(FieldSourceIP) {
		e.SourceIP = ""
	}
	if drop(FieldUserAgent) {
		e.UserAgent = ""
	}
	if drop(FieldObject) {
		e.Object = ObjectRef{Subresource: e.Object.Subresource}
	}
	if drop(FieldSubresource) {
		e.Object.Subresource = ""
	}
	if drop(FieldMessage) {
		e.Message = ""
	}
	if drop(FieldDecision) {
		e.Decision = ""
	}
	if drop(FieldReason) {
		e.Reason = ""
	}
	if drop(FieldPhases) {
		e.Phases = nil
	}
}

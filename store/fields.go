package store

// Field is an indexed attribute of an event: each distinct value has a
// postings list (the sorted IDs of the events holding it).
type Field uint8

// Indexed fields. Group holds each of the user's groups; User is the
// authenticated user, Impersonated the user it acted as (or "").
const (
	FieldUser Field = iota
	FieldImpersonated
	FieldGroup
	FieldVerb
	FieldAPIGroup
	FieldResource
	FieldSubresource
	FieldNamespace
	FieldCode
	FieldDecision
	FieldStage
	FieldLevel
	FieldUserAgent
	FieldSourceIP
	FieldSource
	numFields
)

var fieldNames = [numFields]string{"user", "impersonated", "group", "verb", "apigroup", "resource", "subresource", "namespace", "code", "decision", "stage", "level", "useragent", "sourceip", "source"}

func (f Field) String() string {
	if f < numFields {
		return fieldNames[f]
	}
	return "field?"
}

// Fields lists every indexed field.
func Fields() []Field {
	fs := make([]Field, numFields)
	for i := range fs {
		fs[i] = Field(i)
	}
	return fs
}

// fieldCol is the string column holding each field, -1 for the fields kept
// otherwise (groups, code, stage, level: see Store).
var fieldCol = [numFields]int{
	FieldUser: colUser, FieldImpersonated: colImpersonated, FieldGroup: -1, FieldVerb: colVerb,
	FieldAPIGroup: colAPIGroup, FieldResource: colResource, FieldSubresource: colSubresource,
	FieldNamespace: colNamespace, FieldCode: -1, FieldDecision: colDecision, FieldStage: -1, FieldLevel: -1,
	FieldUserAgent: colUserAgent, FieldSourceIP: colSourceIP, FieldSource: colSource,
}

// indexedCol reports whether string column col has postings.
func indexedCol(col int) bool {
	for _, c := range fieldCol {
		if c == col {
			return true
		}
	}
	return false
}

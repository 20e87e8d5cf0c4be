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
	numFields
)

var fieldNames = [numFields]string{"user", "impersonated", "group", "verb", "apigroup", "resource", "subresource", "namespace", "code", "decision", "stage", "level", "useragent", "sourceip"}

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

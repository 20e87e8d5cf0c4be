package audit

import "fmt"

// SyntaxError reports bytes that are not a well-formed audit document: bad
// JSON, or a known field holding a value of the wrong type.
type SyntaxError struct {
	Offset int64  // byte offset in the document where the problem was found
	Msg    string // what is wrong
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("malformed JSON at byte %d: %s", e.Offset, e.Msg) }

// UnrecognisedError reports a well-formed JSON document that is not an audit
// event or event list. kaudit counts and reports these, never guesses.
type UnrecognisedError struct {
	What string // a short description, e.g. `kind "AdmissionReview" (admission.k8s.io/v1)`
}

func (e *UnrecognisedError) Error() string { return "not an audit event: " + e.What }

package audit

import "fmt"

// SyntaxError reports bytes that are not well-formed JSON. Offset and Msg
// are those encoding/json would report: the first offending byte's offset
// plus one (or the length, at the end of the input) and why.
type SyntaxError struct {
	Offset int64  // byte offset in the document where the problem was found
	Msg    string // what is wrong
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("malformed JSON at byte %d: %s", e.Offset, e.Msg)
}

// UnrecognisedError reports a well-formed JSON document that is not an audit
// event or event list, including one whose known fields hold values of the
// wrong type (`{"kind":0}`). kaudit counts and reports these, never guesses.
type UnrecognisedError struct {
	What string // a short description, e.g. `kind "AdmissionReview" (admission.k8s.io/v1)`
}

func (e *UnrecognisedError) Error() string { return "not an audit event: " + e.What }

// ItemError reports an EventList item that could not be decoded; the
// list's other items were still returned.
type ItemError struct {
	Index int
	Err   error
}

func (e *ItemError) Error() string { return fmt.Sprintf("items[%d]: %v", e.Index, e.Err) }
func (e *ItemError) Unwrap() error { return e.Err }

package history

import (
	"net/url"
	"strings"
)

// Server-side apply (kubectl apply --server-side, client-go's Apply) is a
// PATCH with the content type application/apply-patch+yaml. The audit
// event does not record the content type, so it is read from what the
// event does hold:
//   - the request URI names a fieldManager (required for an apply patch);
//     force= is accepted on apply patches only;
//   - the body is a whole object: an apply configuration has apiVersion
//     and kind, which a strategic, merge or JSON patch from kubectl has
//     not;
//   - when the response is there, its managedFields hold an "Apply" entry
//     for that manager, which settles it.

// applyOf reports whether r looks like a server-side apply, and its field
// manager.
func applyOf(r Request) (manager string, ok bool) {
	if r.Verb != "patch" {
		return "", false
	}
	_, q, _ := strings.Cut(r.URI, "?")
	v, err := url.ParseQuery(q)
	if err != nil {
		return "", false
	}
	manager = v.Get("fieldManager")
	if manager == "" {
		return "", false
	}
	if _, forced := v["force"]; forced {
		return manager, true
	}
	body := object(r.RequestObject)
	if body == nil || body["apiVersion"] == nil || body["kind"] == nil {
		return "", false
	}
	return manager, true
}

// appliedBy reports whether obj's managedFields hold an Apply entry of
// manager: the server recorded the request as a server-side apply.
func appliedBy(obj map[string]any, manager string) bool {
	mf, _ := dig(obj, "metadata", "managedFields")
	l, _ := mf.([]any)
	for _, e := range l {
		m, _ := e.(map[string]any)
		if m["manager"] == manager && m["operation"] == "Apply" {
			return true
		}
	}
	return false
}

// apply records a server-side apply's revision: the server's response
// (exact) when the log has it; else the applied configuration, merged
// onto the previous revision when there is one (approximate, and the note
// says why).
func (b *builder) apply(s *Step, r Request, manager string) {
	what := "server-side apply by field manager " + manager
	if obj := object(r.ResponseObject); obj != nil && kindOf(obj) != "Status" {
		if !appliedBy(obj, manager) {
			what += " (guessed from the request: no Apply entry in managedFields)"
		}
		b.revise(s, Exact, obj)
		s.Note = what
		return
	}
	body := object(r.RequestObject)
	switch {
	case body == nil:
		b.revise(s, Unavailable, nil)
		s.Note = what + "; no body at this audit level"
	case b.cur == nil:
		b.revise(s, Approximate, body)
		s.Note = what + "; approximate: the applied configuration only (no response at this audit level: server-set fields and other managers' fields missing)"
	default:
		obj, _, err := applyPatch(b.cur, r.RequestObject, r.Group, r.Resource)
		if err != nil {
			b.revise(s, Unavailable, nil)
			s.Note = what + "; could not be merged onto the previous revision: " + err.Error()
			return
		}
		b.revise(s, Approximate, obj)
		s.Note = what + "; approximate: the applied configuration merged onto the previous revision (no response at this audit level; fields the manager stopped applying are not removed)"
	}
}

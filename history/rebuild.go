package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/store"
)

// Quality says how much of a revision the log held.
type Quality string

const (
	Exact       Quality = "exact"       // a full body the server returned
	Approximate Quality = "approximate" // a request body, or a patch on the previous revision
	Unavailable Quality = "unavailable" // the write is known, its content is not
)

// Request is one request that touched the object, as Rebuild reads it.
// Bodies are already redacted.
type Request struct {
	Time           time.Time       `json:"time"`
	AuditID        string          `json:"auditID,omitempty"`
	Verb           string          `json:"verb"`
	Subresource    string          `json:"subresource,omitempty"`
	User           string          `json:"user"`
	Stage          string          `json:"stage"`
	Level          string          `json:"level"`
	URI            string          `json:"requestURI,omitempty"`
	Group          string          `json:"group,omitempty"`
	Resource       string          `json:"resource"`
	Name           string          `json:"name,omitempty"` // "" for a deletecollection
	Code           int32           `json:"code"`
	Webhooks       []string        `json:"webhooks,omitempty"` // mutating webhooks that changed it, and how
	RequestObject  json.RawMessage `json:"-"`
	ResponseObject json.RawMessage `json:"-"`

	id    store.ID    // the event Load read it from
	level audit.Level // its audit level
}

// Step is one request in the timeline and what it did to the object.
type Step struct {
	Request
	DryRun bool `json:"dryRun,omitempty"`
	Write  bool `json:"write,omitempty"` // a successful, non-dry-run change
	Ends   bool `json:"ends,omitempty"`  // the object is gone after it
	// MaybeEnds: a deletecollection whose items the log does not list
	// (Metadata level): the object may be gone after it, or not.
	MaybeEnds bool      `json:"maybeEnds,omitempty"`
	Revision  *Revision `json:"revision,omitempty"` // nil when the object did not change
	Note      string    `json:"note,omitempty"`
}

// Revision is the object after a write. Object is nil when unavailable.
type Revision struct {
	N       int            `json:"n"`
	Quality Quality        `json:"quality"`
	Object  map[string]any `json:"object,omitempty"`
}

// changes are the subresources whose writes change the object as a
// revision can show it ("" is the object itself).
var changes = map[string]bool{"": true, "status": true, "scale": true, "eviction": true}

var writeVerbs = map[string]bool{"create": true, "update": true, "patch": true, "delete": true, "deletecollection": true}

// Rebuild walks reqs (in time order) and returns the timeline. It never
// labels a revision exact unless it is a full object the server returned.
func Rebuild(ref Ref, reqs []Request) []Step {
	b := builder{ref: ref}
	steps := make([]Step, 0, len(reqs))
	for _, r := range reqs {
		steps = append(steps, b.step(r))
	}
	return steps
}

// builder holds the last known revision while Rebuild walks.
type builder struct {
	ref     Ref
	n       int
	cur     map[string]any // nil: unknown (or gone)
	quality Quality
	gone    bool
}

func (b *builder) step(r Request) Step {
	s := b.change(r)
	if s.Write && len(r.Webhooks) > 0 {
		s.Note = join(s.Note, strings.Join(r.Webhooks, "; "))
	}
	return s
}

func (b *builder) change(r Request) Step {
	s := Step{Request: r, DryRun: dryRun(r.URI)}
	ok := succeeded(r.Code, r.Stage)
	switch {
	case !writeVerbs[r.Verb] && r.Subresource != "eviction":
		return s
	case !changes[r.Subresource]:
		return s // exec, log, binding, token...: not a change the log shows
	case !ok:
		s.Note = "failed: nothing changed"
		return s
	case s.DryRun:
		s.Note = "dry run: nothing changed"
		return s
	}
	s.Write = true
	switch {
	case r.Verb == "deletecollection" && itemNames(r.ResponseObject) == nil:
		s.MaybeEnds = true
		s.Note = maybeDeleted(r, b.ref.Namespace)
	case r.Verb == "deletecollection" || r.Subresource == "eviction" || (r.Verb == "delete" && r.Resource == "namespaces" && b.ref.Resource != "namespaces"):
		b.end(&s)
	case r.Verb == "delete":
		b.delete(&s)
	case r.Verb == "create" && r.Subresource == "":
		b.gone = false
		b.full(&s, r, "created")
	case r.Subresource == "scale":
		b.scale(&s, r)
	case r.Verb == "patch":
		b.patch(&s, r)
	default:
		b.full(&s, r, "")
	}
	return s
}

func dryRun(uri string) bool {
	_, q, ok := strings.Cut(uri, "?")
	if !ok || !strings.Contains(q, "dryRun") {
		return false
	}
	v, err := url.ParseQuery(q)
	if err != nil {
		return strings.Contains(q, "dryRun=All")
	}
	return len(v["dryRun"]) > 0 && v.Get("dryRun") != ""
}

// maybeDeleted is the note of a deletecollection whose items are
// unknown: where, by whom, at which level, and its selectors.
func maybeDeleted(r Request, ns string) string {
	where := "the cluster"
	if ns != "" {
		where = ns
	}
	n := fmt.Sprintf("deletecollection in %s by %s at %s level: items unknown", where, r.User, r.Level)
	_, q, _ := strings.Cut(r.URI, "?")
	if v, err := url.ParseQuery(q); err == nil {
		for _, k := range []string{"labelSelector", "fieldSelector"} {
			if s := v.Get(k); s != "" {
				n += " (" + k + " " + s + ")"
			}
		}
	}
	return n + "; it may have deleted this object"
}

// revise records a new revision of the object.
func (b *builder) revise(s *Step, q Quality, obj map[string]any) {
	b.n++
	b.cur, b.quality = obj, q
	s.Revision = &Revision{N: b.n, Quality: q, Object: obj}
}

// full handles a create or update (of the object or its status): the
// response is the whole object; else the request body, partial.
func (b *builder) full(s *Step, r Request, note string) {
	if obj := object(r.ResponseObject); obj != nil && kindOf(obj) != "Status" {
		b.revise(s, Exact, obj)
	} else if obj := object(r.RequestObject); obj != nil && kindOf(obj) != "Status" {
		b.revise(s, Approximate, obj)
		note = join(note, "from the request body (server-set fields missing)")
	} else {
		b.revise(s, Unavailable, nil)
		note = join(note, "no body at this audit level")
	}
	s.Note = note
}

// patch applies the request's patch to the previous revision when the
// server's response is not there. A server-side apply goes to apply.
func (b *builder) patch(s *Step, r Request) {
	if manager, ok := applyOf(r); ok {
		if r.Subresource == "" && r.Code == 201 {
			b.gone = false // an apply creates what is not there
		}
		b.apply(s, r, manager)
		return
	}
	if obj := object(r.ResponseObject); obj != nil && kindOf(obj) != "Status" {
		b.revise(s, Exact, obj)
		return
	}
	if len(r.RequestObject) == 0 {
		b.revise(s, Unavailable, nil)
		s.Note = "no body at this audit level"
		return
	}
	if b.cur == nil {
		b.revise(s, Unavailable, nil)
		s.Note = "patch without a known previous revision"
		return
	}
	obj, how, err := applyPatch(b.cur, r.RequestObject, r.Group, r.Resource)
	if err != nil {
		b.revise(s, Unavailable, nil)
		s.Note = "patch could not be applied: " + err.Error()
		return
	}
	b.revise(s, Approximate, obj)
	s.Note = how
}

// scale sets spec.replicas from a Scale body on the previous revision.
func (b *builder) scale(s *Step, r Request) {
	body := object(r.ResponseObject)
	if body == nil {
		body = object(r.RequestObject)
	}
	replicas, ok := dig(body, "spec", "replicas")
	if !ok || b.cur == nil {
		b.revise(s, Unavailable, nil)
		s.Note = "scaled; replicas or previous revision unknown"
		return
	}
	obj := deepCopy(b.cur)
	spec, _ := obj["spec"].(map[string]any)
	if spec == nil {
		spec = map[string]any{}
		obj["spec"] = spec
	}
	spec["replicas"] = replicas
	b.revise(s, Approximate, obj)
	s.Note = "scale: spec.replicas on the previous revision"
}

// delete ends the object, unless the server kept it for its finalizers.
func (b *builder) delete(s *Step) {
	obj := object(s.ResponseObject)
	if obj != nil && kindOf(obj) != "Status" {
		if f, _ := dig(obj, "metadata", "finalizers"); f != nil {
			if l, _ := f.([]any); len(l) > 0 {
				b.revise(s, Exact, obj)
				s.Note = "deletion pending: finalizers"
				return
			}
		}
	}
	b.end(s)
}

func (b *builder) end(s *Step) {
	switch {
	case s.Verb == "deletecollection":
		s.Note = "deleted by a deletecollection"
	case s.Subresource == "eviction":
		s.Note = "evicted"
	case s.Resource == "namespaces" && b.ref.Resource != "namespaces":
		s.Note = "its namespace was deleted"
	default:
		s.Note = "deleted"
	}
	s.Ends, b.gone, b.cur = true, true, nil
}

// object decodes a JSON object body; nil when it is not one.
func object(raw json.RawMessage) map[string]any {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return nil
	}
	return m
}

func kindOf(m map[string]any) string { s, _ := m["kind"].(string); return s }

func dig(m map[string]any, path ...string) (any, bool) {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = mm[p]; !ok {
			return nil, false
		}
	}
	return v, true
}

func deepCopy(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		return map[string]any{}
	}
	return object(b)
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

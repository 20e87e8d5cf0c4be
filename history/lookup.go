package history

import (
	"bytes"
	"encoding/json"
	"sort"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/redact"
	"github.com/kaudit/kaudit/store"
)

// Candidates is the set of requests (one event each, see
// store.Requests) that may touch ref: those naming it, the
// deletecollections of its resource in its namespace, and the deletion of
// its namespace. It is answered from postings lists, so its cost follows
// the object's resource and namespace, not the size of the store.
func Candidates(st *store.Store, ref Ref) *store.Set {
	set := st.Postings(store.FieldResource, ref.Resource)
	set.And(st.Postings(store.FieldAPIGroup, ref.Group))
	if ref.Namespace != "" {
		set.And(st.Postings(store.FieldNamespace, ref.Namespace))
	}
	set.And(st.Requests())
	name, hasName := st.Key(ref.Name)
	empty, hasEmpty := st.Key("")
	set = st.Select(set, func(r store.Row) bool {
		k := r.NameKey()
		return (hasName && k == name) || (hasEmpty && k == empty)
	})
	if ref.Namespace != "" && ref.Resource != "namespaces" {
		ns := st.Postings(store.FieldResource, "namespaces")
		ns.And(st.Postings(store.FieldVerb, "delete"))
		ns.And(st.Requests())
		if key, ok := st.Key(ref.Namespace); ok {
			set.Or(st.Select(ns, func(r store.Row) bool { return r.NameKey() == key }))
		}
	}
	return set
}

// Load reads the requests that touched ref, in time order, with their
// bodies redacted (redact.Output), ready for Rebuild.
func Load(st *store.Store, ref Ref) ([]Request, error) {
	var out []Request
	rr := newRawReader(st)
	var err error
	st.Each(Candidates(st, ref), func(e *store.Entry) bool {
		o := e.Object
		nsDelete := o.Resource == "namespaces" && ref.Resource != "namespaces"
		if !nsDelete && (o.Namespace != ref.Namespace || o.APIGroup != ref.Group) {
			return true
		}
		r := Request{
			Time: e.Time, AuditID: e.AuditID, Verb: e.Verb, Subresource: o.Subresource,
			User: e.Subject().Name, Stage: e.Stage.String(), Level: e.Level.String(),
			Group: o.APIGroup, Resource: o.Resource, Name: o.Name, Code: e.Code,
		}
		if o.Name == "" && e.Verb != "deletecollection" {
			return true // a list, watch or create without a name
		}
		if !writeVerbs[e.Verb] && o.Subresource != "eviction" {
			out = append(out, r) // a read: its bodies change nothing
			return true
		}
		var raw []byte
		if raw, err = rr.Raw(e.ID); err != nil {
			return false
		}
		// At Metadata level there are no bodies: the event is worth parsing
		// only for a dry run or a mutating webhook's annotation.
		if e.Level >= audit.LevelRequest || bytes.Contains(raw, []byte("dryRun")) || bytes.Contains(raw, []byte(".webhook.admission.k8s.io/")) {
			readBody(&r, redact.Output(raw))
		}
		if o.Name == "" && !lists(r.ResponseObject, ref.Name) {
			return true // a deletecollection that did not take this object
		}
		out = append(out, r)
		return true
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, err
}

// readBody fills what the store does not keep: the request URI and the
// bodies. Envelopes (cloud exports) hold them elsewhere: left empty.
func readBody(r *Request, raw []byte) {
	var ev struct {
		RequestURI     string            `json:"requestURI"`
		Annotations    map[string]string `json:"annotations"`
		RequestObject  json.RawMessage   `json:"requestObject"`
		ResponseObject json.RawMessage   `json:"responseObject"`
	}
	if json.Unmarshal(raw, &ev) != nil {
		return
	}
	r.URI, r.RequestObject, r.ResponseObject = ev.RequestURI, ev.RequestObject, ev.ResponseObject
	r.Webhooks = webhooks(ev.Annotations)
}

// lists reports whether a deletecollection's response (a List) holds
// an item called name.
func lists(resp json.RawMessage, name string) bool {
	var l struct {
		Items []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		} `json:"items"`
	}
	if json.Unmarshal(resp, &l) != nil {
		return false
	}
	for _, it := range l.Items {
		if it.Metadata.Name == name {
			return true
		}
	}
	return false
}

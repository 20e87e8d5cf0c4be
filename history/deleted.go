package history

import (
	"bytes"
	"encoding/json"
	"sort"
	"time"

	"github.com/kaudit/kaudit/redact"
	"github.com/kaudit/kaudit/store"
)

// Deletion is one object deleted, and by whom.
type Deletion struct {
	Time      time.Time `json:"time"`
	User      string    `json:"user"`
	Verb      string    `json:"verb"` // delete, deletecollection, or delete of its namespace
	Group     string    `json:"group,omitempty"`
	Resource  string    `json:"resource"`
	Namespace string    `json:"namespace,omitempty"`
	Name      string    `json:"name"`
	Code      int32     `json:"code"`
	AuditID   string    `json:"auditID,omitempty"`
	Note      string    `json:"note,omitempty"`
}

// Deletions lists the successful, non-dry-run deletions among set (one
// event per request, as store.Requests): each object a deletecollection's
// response lists, and the deletion of every namespace set's events were in.
func Deletions(st *store.Store, set *store.Set) ([]Deletion, error) {
	var out []Deletion
	namespaces := map[string]bool{}
	rr := newRawReader(st)
	var err error
	st.Each(set, func(e *store.Entry) bool {
		if e.Object.Namespace != "" {
			namespaces[e.Object.Namespace] = true
		}
		if (e.Verb != "delete" && e.Verb != "deletecollection") || e.Code < 200 || e.Code >= 300 {
			return true
		}
		var raw []byte
		if raw, err = rr.Raw(e.ID); err != nil {
			return false
		}
		out = append(out, deletionsOf(e, redact.Output(raw))...)
		return true
	})
	if err != nil {
		return out, err
	}
	out = append(out, namespaceDeletions(st, namespaces, set)...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

func deletionsOf(e *store.Entry, raw []byte) []Deletion {
	var r Request
	readBody(&r, raw)
	if dryRun(r.URI) {
		return nil
	}
	d := Deletion{Time: e.Time, User: e.Subject().Name, Verb: e.Verb, Group: e.Object.APIGroup,
		Resource: e.Object.Resource, Namespace: e.Object.Namespace, Name: e.Object.Name, Code: e.Code, AuditID: e.AuditID}
	if e.Verb == "delete" {
		return []Deletion{d}
	}
	names := itemNames(r.ResponseObject)
	if names == nil {
		d.Name, d.Note = "*", "items unknown: no response body at this audit level"
		return []Deletion{d}
	}
	out := make([]Deletion, len(names))
	for i, n := range names {
		out[i] = d
		out[i].Name = n
	}
	return out
}

func itemNames(resp json.RawMessage) []string {
	var l struct {
		Items *[]struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		} `json:"items"`
	}
	if json.Unmarshal(resp, &l) != nil || l.Items == nil {
		return nil
	}
	names := make([]string, 0, len(*l.Items))
	for _, it := range *l.Items {
		names = append(names, it.Metadata.Name)
	}
	return names
}

// namespaceDeletions are the successful deletes of the namespaces in ns
// (each object in them went with it), unless set already holds them.
func namespaceDeletions(st *store.Store, ns map[string]bool, set *store.Set) []Deletion {
	cand := st.Postings(store.FieldResource, "namespaces")
	cand.And(st.Postings(store.FieldVerb, "delete"))
	cand.And(st.Requests())
	cand.AndNot(set)
	var out []Deletion
	rr := newRawReader(st)
	st.Each(cand, func(e *store.Entry) bool {
		if raw, err := rr.Raw(e.ID); err == nil && bytes.Contains(raw, []byte("dryRun")) {
			var r Request
			readBody(&r, raw)
			if dryRun(r.URI) {
				return true
			}
		}
		if ns[e.Object.Name] && e.Code >= 200 && e.Code < 300 {
			out = append(out, Deletion{Time: e.Time, User: e.Subject().Name, Verb: "delete", Resource: "namespaces",
				Name: e.Object.Name, Code: e.Code, AuditID: e.AuditID, Note: "namespace deleted: every object in it went with it"})
		}
		return true
	})
	return out
}

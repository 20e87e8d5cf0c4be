package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"runtime"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

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
	gen := st.KeyGen() // before the keys: they hold while it does
	name, hasName := st.Key(ref.Name)
	empty, hasEmpty := st.Key("")
	set = st.Select(set, func(r store.Row) bool {
		if r.KeyGen() != gen { // the store renumbered its names meanwhile
			return r.Name() == ref.Name || r.Name() == ""
		}
		k := r.NameKey()
		return (hasName && k == name) || (hasEmpty && k == empty)
	})
	if ref.Namespace != "" && ref.Resource != "namespaces" {
		ns := st.Postings(store.FieldResource, "namespaces")
		ns.And(st.Postings(store.FieldVerb, "delete"))
		ns.And(st.Requests())
		gen := st.KeyGen()
		if key, ok := st.Key(ref.Namespace); ok {
			set.Or(st.Select(ns, func(r store.Row) bool {
				if r.KeyGen() != gen {
					return r.Name() == ref.Namespace
				}
				return r.NameKey() == key
			}))
		}
	}
	return set
}

// Load reads the requests that touched ref, in time order, ready for
// Rebuild. The timeline (who, verb, code, stage, time) comes from the
// store's columns; original bytes are read only for the requests that can
// change the object (successful writes: their bodies, dry-run flag and
// webhook annotations), and bodies are redacted (redact.Output) before
// they are parsed. That keeps a busy object's history (a lease renewed
// every few seconds, mostly reads and failed renewals) cheap.
func Load(st *store.Store, ref Ref) ([]Request, error) {
	cand := Candidates(st, ref)
	out := make([]Request, 0, cand.GetCardinality())
	var need []int // indexes in out of the requests whose bytes are read
	var ids []byte // the auditIDs, end to end: one string for all at the end
	var idEnd []int
	st.ObjectRows(cand, func(o *store.ObjectRow) bool {
		nsDelete := o.Resource == "namespaces" && ref.Resource != "namespaces"
		if !nsDelete && (o.Namespace != ref.Namespace || o.APIGroup != ref.Group) {
			return true
		}
		if o.Name == "" && o.Verb != "deletecollection" {
			return true // a list, watch or create without a name
		}
		if (o.Name == "" || nsDelete) && !succeeded(o.Code, o.Stage.String()) {
			return true // a failed deletecollection or namespace deletion took nothing
		}
		r := Request{
			Verb: o.Verb, Subresource: o.Subresource,
			User: o.Subject, Stage: o.Stage.String(), Level: o.Level.String(),
			Group: o.APIGroup, Resource: o.Resource, Name: o.Name, Code: o.Code,
			id: o.ID, level: o.Level,
		}
		if o.Time != 0 {
			r.Time = time.Unix(0, o.Time).UTC()
		}
		if canChange(&r) {
			need = append(need, len(out))
		}
		out = append(out, r)
		ids = append(ids, o.AuditID...)
		idEnd = append(idEnd, len(ids))
		return true
	})
	all, start := string(ids), 0
	for i, end := range idEnd {
		out[i].AuditID, start = all[start:end], end
	}
	out, err := readBodies(st, ref, out, need)
	// Requests are in ID order, which is time order unless several
	// sources or a late stage interleave.
	if before := func(i, j int) bool { return out[i].Time.Before(out[j].Time) }; !sort.SliceIsSorted(out, before) {
		sort.SliceStable(out, before)
	}
	return out, err
}

// canChange reports whether r may have changed the object, so that its
// bytes are worth reading: a successful write of the object or of a
// subresource whose change a revision shows. Reads, failures, exec and
// log never change what a revision holds.
func canChange(r *Request) bool {
	return (writeVerbs[r.Verb] || r.Subresource == "eviction") && changes[r.Subresource] && succeeded(r.Code, r.Stage)
}

// succeeded: a 2xx, or no code on a completed request (some sources
// drop it).
func succeeded(code int32, stage string) bool {
	return code >= 200 && code < 300 || (code == 0 && stage == "ResponseComplete")
}

// parallelReads: from this many events to read on, the reads are shared
// by up to GOMAXPROCS goroutines (at most 4). A busy object's writes are
// tens of thousands of small reads that wait on memory, not on each other.
const parallelReads = 4096

// readBodies fills the requests at need from their original bytes, and
// drops the deletecollections whose response shows they did not take the
// object.
func readBodies(st *store.Store, ref Ref, reqs []Request, need []int) ([]Request, error) {
	drop := make([]bool, len(reqs)) // each goroutine writes its own indexes
	workers := 1
	if len(need) >= parallelReads {
		workers = min(runtime.GOMAXPROCS(0), 4)
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		part := need[w*len(need)/workers : (w+1)*len(need)/workers]
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = readSome(st, ref, reqs, part, drop)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return reqs, err
	}
	kept := reqs[:0]
	for i, r := range reqs {
		if !drop[i] {
			kept = append(kept, r)
		}
	}
	return kept, nil
}

// readSome fills the requests at part (see readBodies).
func readSome(st *store.Store, ref Ref, reqs []Request, part []int, drop []bool) error {
	rr := newRawReader(st)
	for _, i := range part {
		r := &reqs[i]
		raw, err := rr.Raw(r.id)
		if err != nil {
			return err
		}
		// At Metadata level there are no bodies: only the request URI (a
		// dry run?) and a mutating webhook's annotation are worth reading.
		if r.level < audit.LevelRequest && !mutated(raw) {
			r.URI = requestURI(raw)
		} else {
			readBody(r, redact.Output(raw))
		}
		drop[i] = r.Name == "" && listsOther(r.ResponseObject, ref.Name) // a deletecollection that did not take this object
	}
	return nil
}

// mutated reports whether an event (at Metadata level: no bodies) has a
// mutating webhook's annotation. The key is searched from its "w": rare
// in an event, so bytes.Index skips along with SIMD (a search from "." or
// "a", which are everywhere, or bytes.LastIndex, is 5 to 15 times slower).
func mutated(raw []byte) bool {
	return bytes.Contains(raw, []byte("webhook.admission.k8s.io/"))
}

// requestURI reads the requestURI field of an event without decoding the
// rest ("" when it is not found or not a plain JSON string).
func requestURI(raw []byte) string {
	// Searched from its rare "q" (see mutated): 10 times faster than
	// from the quote, which is everywhere.
	const key = `"requestURI":`
	i := bytes.Index(raw, []byte(key[3:]))
	if i < 3 || string(raw[i-3:i]) != key[:3] {
		return ""
	}
	rest := bytes.TrimLeft(raw[i+len(key)-3:], " ")
	if len(rest) == 0 || rest[0] != '"' {
		return ""
	}
	end, escaped := 1, false
	for end < len(rest) && rest[end] != '"' {
		if rest[end] == '\\' {
			end, escaped = end+1, true
		}
		end++
	}
	if end >= len(rest) {
		return ""
	}
	if !escaped && utf8.Valid(rest[1:end]) {
		return string(rest[1:end])
	}
	var uri string
	if json.Unmarshal(rest[:end+1], &uri) != nil {
		return ""
	}
	return uri
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

// listsOther reports whether a deletecollection's response is a List
// that does not hold an item called name: the request certainly did not
// take the object. Without such a list (Metadata level, a Status) it is
// not known.
func listsOther(resp json.RawMessage, name string) bool {
	names := itemNames(resp)
	if names == nil {
		return false
	}
	for _, n := range names {
		if n == name {
			return false
		}
	}
	return true
}

package query

import (
	"sort"
	"time"

	"github.com/kaudit/kaudit/store"
)

// eventsTable lists requests in input order.
func eventsTable(st *store.Store, requests *store.Set) *Table {
	t := &Table{View: ViewEvents, Columns: []Column{
		timestamp("TIME", "time"), text("USER", "user"), text("VERB", "verb"), text("RESOURCE", "resource"),
		text("NAMESPACE/NAME", "object"), integer("CODE", "code"), duration("LATENCY", "latency"),
	}}
	st.Each(requests, func(e *store.Entry) bool {
		t.Rows = append(t.Rows, []any{e.Time, userKey(e), e.Verb, ResourceKey(e), objectName(e), int(e.Code), e.Latency})
		return true
	})
	return t
}

func objectName(e *store.Entry) string {
	switch {
	case e.Object.Namespace == "":
		return e.Object.Name
	case e.Object.Name == "":
		return e.Object.Namespace + "/"
	}
	return e.Object.Namespace + "/" + e.Object.Name
}

// latencyTable ranks the slowest requests, leaving out long-running ones
// (watches, exec, logs): their duration is the client's choice, not slowness.
func latencyTable(st *store.Store, requests *store.Set) *Table {
	type slow struct {
		e     store.Entry
		phase string
	}
	var rows []slow
	st.Each(requests, func(e *store.Entry) bool {
		if !e.LongRunning && e.Latency > 0 {
			rows = append(rows, slow{*e, largestPhase(e)})
		}
		return true
	})
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].e.Latency > rows[j].e.Latency })
	t := &Table{View: ViewLatency, Columns: []Column{
		timestamp("TIME", "time"), text("USER", "user"), text("VERB", "verb"), text("RESOURCE", "resource"),
		text("NAMESPACE/NAME", "object"), integer("CODE", "code"), duration("LATENCY", "latency"), text("LARGEST PHASE", "largest_phase"),
	}}
	for _, r := range rows {
		e := &r.e
		t.Rows = append(t.Rows, []any{e.Time, userKey(e), e.Verb, ResourceKey(e), objectName(e), int(e.Code), e.Latency, r.phase})
	}
	return t
}

// largestPhase names where most of a slow request's time went, from the API
// server's apiserver.latency.k8s.io/* annotations ("total" is the sum, not a
// phase).
func largestPhase(e *store.Entry) string {
	var best string
	var bestD time.Duration
	for _, p := range e.Phases {
		if p.Name != "total" && p.Duration > bestD {
			best, bestD = p.Name, p.Duration
		}
	}
	if best == "" {
		return ""
	}
	return best + " " + FormatDuration(bestD)
}

// denialsTable groups refused requests by who was refused what, where.
// Subject is the impersonated user when there is one: that is whose
// permissions were checked.
func denialsTable(st *store.Store, requests *store.Set) *Table {
	type key struct{ subject, verb, resource, namespace string }
	type denial struct {
		key
		kind        string
		count       int
		first, last time.Time
		reason      string
	}
	groups := map[key]*denial{}
	st.Each(requests, func(e *store.Entry) bool {
		if !e.Denied {
			return true
		}
		k := key{e.Subject().Name, e.Verb, ResourceKey(e), e.Object.Namespace}
		d := groups[k]
		if d == nil {
			d = &denial{key: k, first: e.Time, last: e.Time}
			groups[k] = d
		}
		d.count++
		if e.Time.Before(d.first) {
			d.first = e.Time
		}
		if !e.Time.Before(d.last) {
			d.last = e.Time
			d.kind, d.reason = denialKind(e), denialReason(e)
		}
		return true
	})
	rows := make([]*denial, 0, len(groups))
	for _, d := range groups {
		rows = append(rows, d)
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.count != b.count {
			return a.count > b.count
		}
		if a.subject != b.subject {
			return a.subject < b.subject
		}
		if a.verb != b.verb {
			return a.verb < b.verb
		}
		if a.resource != b.resource {
			return a.resource < b.resource
		}
		return a.namespace < b.namespace
	})
	t := &Table{View: ViewDenials, Columns: []Column{
		text("SUBJECT", "subject"), text("VERB", "verb"), text("RESOURCE", "resource"), text("NAMESPACE", "namespace"),
		integer("COUNT", "count"), timestamp("FIRST", "first"), timestamp("LAST", "last"), text("BY", "by"), text("REASON", "reason"),
	}}
	for _, d := range rows {
		t.Rows = append(t.Rows, []any{d.subject, d.verb, d.resource, d.namespace, d.count, d.first, d.last, d.kind, d.reason})
	}
	return t
}

// denialKind tells an authorizer's refusal (RBAC, Node, webhook: decision
// forbid) from a 403 that came later, from admission or elsewhere.
func denialKind(e *store.Entry) string {
	if e.Decision == "forbid" {
		return "authorizer"
	}
	return "other-403"
}

// denialReason is the authorizer's reason, or the response message when the
// reason is empty (as it is for plain RBAC denials).
func denialReason(e *store.Entry) string {
	if e.Reason != "" {
		return e.Reason
	}
	return e.Message
}

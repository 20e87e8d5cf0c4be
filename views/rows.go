package views

import (
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

// latencyColumns are the latency view's: it ranks the slowest requests,
// leaving out long-running ones (watches, exec, logs): their duration is
// the client's choice, not slowness.
func latencyColumns() []Column {
	return []Column{
		timestamp("TIME", "time"), text("USER", "user"), text("VERB", "verb"), text("RESOURCE", "resource"),
		text("NAMESPACE/NAME", "object"), integer("CODE", "code"), duration("LATENCY", "latency"), text("LARGEST PHASE", "largest_phase"),
	}
}

// largestPhase names where most of a slow request's time went, from the API
// server's apiserver.latency.k8s.io/* annotations ("total" is the sum, not a
// phase). The time no phase accounts for competes too, as "unattributed":
// a 63µs authentication phase is not why a 1.757s request was slow.
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
	if u := Unattributed(e); u > bestD {
		best, bestD = "unattributed", u
	}
	return best + " " + FormatDuration(bestD)
}

// Unattributed is the part of a request's latency that none of its
// apiserver.latency.k8s.io phases accounts for: the "total" annotation
// (else the stage timestamps' latency) less the sum of the other phases;
// 0 without phases.
func Unattributed(e *store.Entry) time.Duration {
	total, sum := e.Latency, time.Duration(0)
	n := 0
	for _, p := range e.Phases {
		if p.Name == "total" {
			total = p.Duration
			continue
		}
		sum += p.Duration
		n++
	}
	if n == 0 || sum >= total {
		return 0
	}
	return total - sum
}

func denialColumns() []Column {
	return []Column{
		text("SUBJECT", "subject"), text("VERB", "verb"), text("RESOURCE", "resource"), text("NAMESPACE", "namespace"),
		integer("COUNT", "count"), timestamp("FIRST", "first"), timestamp("LAST", "last"), text("BY", "by"), text("REASON", "reason"),
	}
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

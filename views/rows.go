package views

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kaudit/kaudit/store"
)

// eventsCols are the columns the events table reads (its rows, below).
const eventsCols = userCols | store.VerbCol | resourceCols | objectCols

// eventsTable lists requests in input order, at most top (0: all). Over
// many requests, consecutive ranges of them are listed on goroutines of
// their own, then joined in order.
func eventsTable(st *store.Store, requests *store.Set, top int) *Table {
	t := &Table{View: ViewEvents, Columns: []Column{
		timestamp("TIME", "time"), text("USER", "user"), text("VERB", "verb"), text("RESOURCE", "resource"),
		text("NAMESPACE/NAME", "object"), integer("CODE", "code"), duration("LATENCY", "latency"),
	}}
	list := func(set *store.Set, rows [][]any) [][]any {
		st.EachColumns(set, eventsCols, func(e *store.Entry) bool {
			rows = append(rows, []any{e.Time, userKey(e), e.Verb, ResourceKey(e), objectName(e), int(e.Code), e.Latency})
			return top <= 0 || len(rows) < top
		})
		return rows
	}
	n := requests.GetCardinality()
	if top > 0 || n < splitMin {
		t.Rows = list(requests, nil)
		return t
	}
	sets := splitSet(requests, runtime.GOMAXPROCS(0))
	parts := make([][][]any, len(sets))
	var wg sync.WaitGroup
	for i := range sets {
		wg.Go(func() { parts[i] = list(sets[i], make([][]any, 0, sets[i].GetCardinality())) })
	}
	wg.Wait()
	t.Rows = slices.Concat(parts...)
	return t
}

// objectCols are the columns objectName reads.
const objectCols = store.NamespaceCol | store.NameCol

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

// denialCauseCols are the columns DenialCause reads.
const denialCauseCols = store.MessageCol | store.DecisionCol | store.ReasonCol | userCols

// DenialCause says who refused a request (kaudit rbac's classification,
// which the denials view shares): "impersonation" (the impersonation
// filter), "admission" (a 403 after an allow decision), "Node" (the Node
// authorizer: reason "node:…" or a node subject), "RBAC" (no authorizer
// allowed it: plain RBAC denials have no reason, or one starting with
// "RBAC:"), "webhook" (another authorizer's reason) or "other" (a 403
// that says nothing about who refused it). Old logs have no decision:
// there the message `User "x" cannot …` still marks an authorizer.
func DenialCause(e *store.Entry) string {
	switch {
	case strings.Contains(e.Message, " cannot impersonate"):
		return "impersonation"
	case e.Decision == "allow":
		return "admission"
	case e.Decision == "forbid", strings.Contains(e.Message, `: User "`) && strings.Contains(e.Message, `" cannot `):
		switch subject := e.Subject().Name; {
		case strings.HasPrefix(e.Reason, "node:") || strings.HasPrefix(subject, "system:node:"):
			return "Node"
		case e.Reason == "" || strings.HasPrefix(e.Reason, "RBAC:"):
			return "RBAC"
		}
		return "webhook"
	}
	return "other"
}

// refused reports whether the denials view counts a request: the store's
// denials, and 403s after an allow decision (admission refusals).
func refused(e *store.Entry) bool { return e.Denied || e.Code == 403 }

func denialKind(e *store.Entry) string { return DenialCause(e) }

// denialReasonCols are the columns denialReason reads.
const denialReasonCols = store.ReasonCol | store.MessageCol

// denialReason is the authorizer's reason, or the response message when the
// reason is empty (as it is for plain RBAC denials).
func denialReason(e *store.Entry) string {
	if e.Reason != "" {
		return e.Reason
	}
	return e.Message
}

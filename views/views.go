package views

import (
	"fmt"
	"strconv"
	"time"

	"github.com/kaudit/kaudit/store"
)

// View names a table kaudit can answer with.
type View string

// The views, as named on the command line.
const (
	ViewEvents     View = "events"
	ViewUsers      View = "users"
	ViewVerbs      View = "verbs"
	ViewResources  View = "resources"
	ViewNamespaces View = "namespaces"
	ViewCodes      View = "codes"
	ViewLatency    View = "latency"
	ViewDenials    View = "denials"
	ViewUserAgents View = "useragents"
	ViewSourceIPs  View = "sourceips"
	ViewSources    View = "sources" // where events were read: host, file or cluster
)

// Views lists every view in the order help shows them.
var Views = []View{ViewEvents, ViewUsers, ViewVerbs, ViewResources, ViewNamespaces, ViewCodes, ViewLatency, ViewDenials,
	ViewUserAgents, ViewSourceIPs, ViewSources}

// ParseView checks a view name.
func ParseView(s string) (View, error) {
	for _, v := range Views {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("unknown view %q (want one of %v)", s, Views)
}

// Build answers view v over requests, a set of the store's request events
// (see store.Requests), keeping at most top rows (0: all).
func Build(st *store.Store, requests *store.Set, v View, top int) (*Table, error) {
	if v == ViewEvents {
		return eventsTable(st, requests, top), nil
	}
	a, err := BuildAggregate(st, requests, v, top, 0)
	if err != nil {
		return nil, err
	}
	return a.Table(), nil
}

// Columns are the store columns view v reads when printed in format
// (table, json or jsonl; --top changes nothing): a headless replay keeps
// only those (store.OnlyColumns). Each is declared next to the code that
// reads the columns (userCols by userKey, ...), and a view reading one it
// did not declare panics on such a store (tests: TestColumnsSuffice).
func Columns(v View, format string) store.Columns {
	if v == ViewEvents {
		if format != "table" {
			return 0 // WriteRaw: the events' original bytes
		}
		return eventsCols
	}
	a, err := NewAggregate(v, 0)
	if err != nil {
		return store.AllColumns
	}
	return a.cols
}

// userCols are the columns userKey reads (and Entry.Subject).
const userCols = store.UserCol | store.ImpersonatedCol

// userKey names who made a request; an impersonated request shows both the
// real user and whom it acted as.
func userKey(e *store.Entry) string {
	if e.Impersonated.Name != "" {
		return e.User.Name + " (as " + e.Impersonated.Name + ")"
	}
	return e.User.Name
}

// resourceCols are the columns ResourceKey reads.
const resourceCols = store.APIGroupCol | store.ResourceCol | store.SubresourceCol | store.PathCol

// ResourceKey writes a request's target the way kubectl names it:
// resource[.group][/subresource], or the path of a non-resource request.
func ResourceKey(e *store.Entry) string {
	if e.Object.Resource == "" {
		return e.Path
	}
	k := e.Object.Resource
	if e.Object.APIGroup != "" {
		k += "." + e.Object.APIGroup
	}
	if e.Object.Subresource != "" {
		k += "/" + e.Object.Subresource
	}
	return k
}

func codeKey(code int32) string {
	if code == 0 {
		return ""
	}
	return strconv.Itoa(int(code))
}

// groupColumns are the columns of a grouped view keyed by its first.
func groupColumns(v View) []Column {
	key := map[View]Column{
		ViewUsers: text("USER", "user"), ViewVerbs: text("VERB", "verb"), ViewResources: text("RESOURCE", "resource"),
		ViewNamespaces: text("NAMESPACE", "namespace"), ViewCodes: text("CODE", "code"),
		ViewUserAgents: text("USER AGENT", "user_agent"), ViewSourceIPs: text("SOURCE IP", "source_ip"),
		ViewSources: text("SOURCE", "source"),
	}[v]
	return []Column{
		key, integer("REQUESTS", "requests"), percent("SHARE", "share"), integer("DENIED", "denied"),
		integer("5XX", "5xx"), duration("P50", "p50"), duration("P99", "p99"),
	}
}

// quantile is the nearest-rank quantile of sorted values; 0 when empty.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

package query

import (
	"fmt"
	"slices"
	"sort"
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
)

// Views lists every view in the order help shows them.
var Views = []View{ViewEvents, ViewUsers, ViewVerbs, ViewResources, ViewNamespaces, ViewCodes, ViewLatency, ViewDenials}

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
	var t *Table
	switch v {
	case ViewEvents:
		t = eventsTable(st, requests)
	case ViewUsers:
		t = groupTable(st, requests, v, text("USER", "user"), userKey)
	case ViewVerbs:
		t = groupTable(st, requests, v, text("VERB", "verb"), func(e *store.Entry) string { return e.Verb })
	case ViewResources:
		t = groupTable(st, requests, v, text("RESOURCE", "resource"), ResourceKey)
	case ViewNamespaces:
		t = groupTable(st, requests, v, text("NAMESPACE", "namespace"), func(e *store.Entry) string { return e.Object.Namespace })
	case ViewCodes:
		t = groupTable(st, requests, v, text("CODE", "code"), func(e *store.Entry) string { return codeKey(e.Code) })
	case ViewLatency:
		t = latencyTable(st, requests)
	case ViewDenials:
		t = denialsTable(st, requests)
	default:
		return nil, fmt.Errorf("unknown view %q", v)
	}
	if top > 0 && len(t.Rows) > top {
		t.Rows = t.Rows[:top]
	}
	return t, nil
}

// userKey names who made a request; an impersonated request shows both the
// real user and whom it acted as.
func userKey(e *store.Entry) string {
	if e.Impersonated.Name != "" {
		return e.User.Name + " (as " + e.Impersonated.Name + ")"
	}
	return e.User.Name
}

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

// group accumulates one row of a grouped view.
type group struct {
	key       string
	requests  int
	denied    int
	errors5xx int
	latencies []time.Duration
}

func groupTable(st *store.Store, requests *store.Set, v View, keyCol Column, key func(*store.Entry) string) *Table {
	groups := map[string]*group{}
	total := 0
	st.Each(requests, func(e *store.Entry) bool {
		k := key(e)
		g := groups[k]
		if g == nil {
			g = &group{key: k}
			groups[k] = g
		}
		total++
		g.requests++
		if e.Denied {
			g.denied++
		}
		if e.Code >= 500 && e.Code < 600 {
			g.errors5xx++
		}
		if !e.LongRunning && e.Latency > 0 {
			g.latencies = append(g.latencies, e.Latency)
		}
		return true
	})
	rows := make([]*group, 0, len(groups))
	for _, g := range groups {
		rows = append(rows, g)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].requests != rows[j].requests {
			return rows[i].requests > rows[j].requests
		}
		return rows[i].key < rows[j].key
	})
	t := &Table{View: v, Columns: []Column{
		keyCol, integer("REQUESTS", "requests"), percent("SHARE", "share"), integer("DENIED", "denied"),
		integer("5XX", "5xx"), duration("P50", "p50"), duration("P99", "p99"),
	}}
	for _, g := range rows {
		slices.Sort(g.latencies)
		t.Rows = append(t.Rows, []any{g.key, g.requests, 100 * float64(g.requests) / float64(total), g.denied, g.errors5xx,
			quantile(g.latencies, 0.50), quantile(g.latencies, 0.99)})
	}
	return t
}

// quantile is the nearest-rank quantile of sorted values; 0 when empty.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

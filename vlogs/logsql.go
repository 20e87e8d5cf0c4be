package vlogs

import (
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/kaudit/kaudit/forward"
	"github.com/kaudit/kaudit/query"
)

// Stream selects what kaudit's OTLP sink forwarded: every record it sends
// carries this resource attribute (forward/otlp.go).
const Stream = `service.name:="kube-apiserver"`

// DatadogStream selects what kaudit's Datadog sink forwarded when it was
// pointed at VictoriaLogs' Datadog-compatible intake
// (/insert/datadog/api/v2/logs): VictoriaLogs keeps the entry's fields
// (ddsource, service, hostname, message as _msg, kaudit.source) and splits
// ddtags into fields (kube_cluster_name, any --forward-tag), and keeps the
// timestamp in milliseconds. Such records carry no k8s.audit.*
// attributes: only the identity, the source and the time are pushed
// down for them; the rest is checked locally.
const DatadogStream = `ddsource:="kubernetes.audit"`

// Identity attributes of the OTLP and Datadog shapes, read back as the
// event's source.
const (
	attrCluster   = "k8s.cluster.name"
	attrHost      = "host.name"
	ddAttrCluster = "kube_cluster_name"
	ddAttrHost    = "hostname"
)

// termAttrs maps quick-term keys to the record attribute holding the same
// value as the store's field (forward/otlp.go sets them from the decoded
// event). Keys whose store value differs from the attribute (apigroup is
// derived from apiVersion too; group is a list; stage and level names are
// checked case-insensitively) are not pushed down.
var termAttrs = map[string]string{
	"verb":        forward.AttrVerb,
	"resource":    forward.AttrResource,
	"subresource": forward.AttrSubresource,
	"ns":          forward.AttrNamespace,
	"name":        forward.AttrName,
	"decision":    forward.AttrDecision,
	"auditid":     forward.AttrAuditID,
}

// Pushdown is the LogsQL that narrows the read to events a filter may
// keep: the records of either shape, the cluster/host selection, and
// every term that maps onto a forwarded attribute. What it leaves out is
// checked locally.
type Pushdown struct {
	Filters   []string // on OTLP-shaped records, ANDed (the first is Stream)
	DDFilters []string // on Datadog-shaped records, ANDed (the first is DatadogStream)
	Since     time.Time
	Until     time.Time
}

// NewPushdown plans f (nil: no filter) plus the cluster and host
// selections (empty: any). Quick terms and the simple atoms of a jq
// filter (query.Filter.Terms) are pushed down alike.
func NewPushdown(f *query.Filter, clusters, hosts []string) Pushdown {
	p := Pushdown{Filters: []string{Stream}, DDFilters: []string{DatadogStream}}
	if len(clusters) > 0 {
		p.Filters = append(p.Filters, attrCluster+":in("+quoteAll(clusters)+")")
		p.DDFilters = append(p.DDFilters, ddAttrCluster+":in("+quoteAll(clusters)+")")
	}
	if len(hosts) > 0 {
		p.Filters = append(p.Filters, attrHost+":in("+quoteAll(hosts)+")")
		p.DDFilters = append(p.DDFilters, ddAttrHost+":in("+quoteAll(hosts)+")")
	}
	if f == nil {
		return p
	}
	p.Since, p.Until = f.Range()
	for _, t := range f.Terms() {
		if s, ok := termFilter(t); ok {
			p.Filters = append(p.Filters, s)
			if t.Key == "source" { // kaudit.source is on both shapes
				p.DDFilters = append(p.DDFilters, s)
			}
		}
	}
	return p
}

// termFilter is t as a LogsQL filter that every event matching t passes.
func termFilter(t query.Term) (string, bool) {
	switch t.Key {
	case "denied":
		// Denied is decision forbid, or 403 without a decision.
		return "(" + forward.AttrDecision + `:="forbid" or ` + forward.AttrCode + `:="403")`, true
	case "error":
		return forward.AttrCode + ":range[400, 999]", true
	case "code":
		return codeFilter(t.Values)
	case "source":
		// Records forwarded before kaudit.source existed read back as
		// cluster/host: they are not ruled out here.
		s, ok := valuesFilter(forward.AttrSource, t)
		return "(" + s + " or " + forward.AttrSource + `:"")`, ok
	case "user":
		// user:X is also the impersonated user, which is not an attribute:
		// any event with impersonation has the word in its body.
		s, ok := valuesFilter(forward.AttrUser, t)
		return "(" + s + " or impersonatedUser)", ok
	}
	attr, ok := termAttrs[t.Key]
	if !ok {
		return "", false
	}
	return valuesFilter(attr, t)
}

// valuesFilter is attr equal to one of t's values, or starting with a
// pattern's prefix when its only * ends it.
func valuesFilter(attr string, t query.Term) (string, bool) {
	var exact, alts []string
	for i, v := range t.Values {
		if v == "" || !plain(v) {
			return "", false // "" matches absent fields: not pushed
		}
		if !t.Globs[i] {
			exact = append(exact, v)
			continue
		}
		prefix, ok := strings.CutSuffix(v, "*")
		if !ok || strings.Contains(prefix, "*") {
			return "", false
		}
		alts = append(alts, attr+":="+strconv.Quote(prefix)+"*")
	}
	if len(exact) > 0 {
		alts = append(alts, attr+":in("+quoteAll(exact)+")")
	}
	if len(alts) == 1 {
		return alts[0], true
	}
	return "(" + strings.Join(alts, " or ") + ")", true
}

// codeFilter is code:403,5xx,400-499 as ranges of the status attribute.
func codeFilter(values []string) (string, bool) {
	var alts []string
	for _, v := range values {
		v = strings.ToLower(v)
		lo, hi := v, v
		switch {
		case len(v) == 3 && strings.HasSuffix(v, "xx"):
			lo, hi = v[:1]+"00", v[:1]+"99"
		case strings.Contains(v, "-"):
			lo, hi, _ = strings.Cut(v, "-")
		}
		l, err1 := strconv.Atoi(lo)
		h, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil {
			return "", false
		}
		alts = append(alts, forward.AttrCode+":range["+strconv.Itoa(l)+", "+strconv.Itoa(h)+"]")
	}
	if len(alts) == 0 {
		return "", false
	}
	return "(" + strings.Join(alts, " or ") + ")", true
}

// plain reports whether v quotes the same in Go and LogsQL: printable.
func plain(v string) bool {
	return strings.IndexFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
}

func quoteAll(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// Query is the LogsQL filter for [since, until) within p's bounds: the
// records of either shape. A Datadog record's _time is its timestamp cut
// to the millisecond, so at p's own lower bound its range starts at the
// millisecond (the local filter still checks the event's time).
func (p Pushdown) Query(since, until time.Time) string {
	ddSince := since
	if !since.IsZero() && since.Equal(p.Since) {
		ddSince = since.Truncate(time.Millisecond)
	}
	otlp := append(append([]string(nil), p.Filters...), timeFilter(since, until)...)
	dd := append(append([]string(nil), p.DDFilters...), timeFilter(ddSince, until)...)
	if len(dd) == 0 { // a Pushdown made by hand, OTLP only
		return strings.Join(otlp, " ")
	}
	return "((" + strings.Join(otlp, " ") + ") or (" + strings.Join(dd, " ") + "))"
}

func timeFilter(since, until time.Time) []string {
	if since.IsZero() && until.IsZero() {
		return nil
	}
	return []string{"_time:[" + timeArg(since, time.Unix(0, 0)) + ", " + timeArg(until, timeMax) + ")"}
}

// timeMax stands for no upper bound: VictoriaLogs keeps times as int64
// nanoseconds, and a later bound (9999-01-01) overflows and matches
// nothing (v1.52.1), which made --since alone read back no event.
var timeMax = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)

func timeArg(t, zero time.Time) string {
	if t.IsZero() {
		t = zero
	}
	return t.UTC().Format(time.RFC3339Nano)
}

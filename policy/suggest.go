package policy

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/kaudit/kaudit/audit"
)

// Suggestion is a policy written from observed traffic, with what it would
// write beside what the log holds.
type Suggestion struct {
	YAML        string    `json:"policy"`
	Requests    int       `json:"requests"`
	SpanSeconds float64   `json:"spanSeconds"`
	Current     Volume    `json:"current"`   // what the log holds
	Suggested   Volume    `json:"suggested"` // what the suggested policy would write
	PerDay      Rates     `json:"perDay"`
	Findings    []Finding `json:"findings"` // policy check on the suggestion (expected empty)
}

// rule is one rule of a suggested policy, before it is written as YAML.
type rule struct {
	comment    string
	level      audit.Level
	users      []string
	groups     []string
	verbs      []string
	namespaces []string
	resources  map[string][]string // group -> resources
	urls       []string
}

var (
	readVerbs  = []string{"get", "list", "watch"}
	writeVerbs = []string{"create", "update", "patch", "delete", "deletecollection"}
)

// noisyShare is the share of all requests above which a system
// component's read-only traffic is dropped by name.
const noisyShare = 0.01

// Suggest writes a policy for the recorded traffic: health endpoints and
// the usual read-only traffic of system components dropped (kube-proxy
// watches, nodes reading their own Node, leader-election and node leases,
// system users whose reads are more than 1% of all requests and who were
// never denied, the nodes' reads as a group on the same terms), secrets and other sensitive resources at Metadata, writes
// at the highest level they were recorded at, and a Metadata catch-all;
// RequestReceived omitted throughout.
func (s *Simulator) Suggest() (*Suggestion, error) {
	tr := newTraffic()
	for _, r := range s.order {
		tr.add(r)
	}
	text := writePolicy(tr.rules(len(s.order)))
	p, err := Load([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("suggested policy does not load: %v\n%s", err, text)
	}
	res := s.Run(p)
	span := s.Span()
	sug := &Suggestion{Requests: s.Requests(), SpanSeconds: round(span.Seconds(), 1000), Current: s.Recorded, Suggested: res.Total,
		PerDay: ratesOf(res.Total, s.Recorded, span), Findings: Check(p)}
	if sug.Findings == nil {
		sug.Findings = []Finding{}
	}
	sug.YAML = fmt.Sprintf("# Suggested by kaudit policy suggest from %d requests over %.0f s of log.\n"+
		"# The log holds %d events (%d bytes); this policy would write %d events (%d bytes).\n",
		sug.Requests, sug.SpanSeconds, sug.Current.Events, sug.Current.Bytes, sug.Suggested.Events, sug.Suggested.Bytes) + text
	return sug, nil
}

// traffic is what Suggest learns of the recorded requests.
type traffic struct {
	deniedRead map[string]bool     // users denied a read
	proxyWatch map[string][]string // group -> resources kube-proxy watched
	nodeGets   map[string][]string // group -> resources nodes got (their Node)
	leaseUsers map[string]bool     // system users renewing a lease
	nodeLeases bool                // nodes renewed leases
	nodeDenied bool                // a node was denied a read
	nodeReads  int
	reads      map[string]int                      // system user -> reads
	writes     map[audit.Level]map[string][]string // level -> group -> resources written
}

func newTraffic() *traffic {
	return &traffic{deniedRead: map[string]bool{}, proxyWatch: map[string][]string{}, nodeGets: map[string][]string{},
		leaseUsers: map[string]bool{}, reads: map[string]int{}, writes: map[audit.Level]map[string][]string{}}
}

// add counts one request.
func (tr *traffic) add(r *request) {
	e := &r.ev
	name, o := e.User.Name, e.Object
	read := slices.Contains(readVerbs, e.Verb)
	if read && e.Denied() {
		tr.deniedRead[name] = true
	}
	node := slices.Contains(e.User.Groups, "system:nodes")
	lease := o.APIGroup == "coordination.k8s.io" && o.Resource == "leases" && (e.Verb == "get" || e.Verb == "update")
	switch {
	case name == "system:kube-proxy" && e.Verb == "watch" && o.Resource != "":
		tr.proxyWatch[o.APIGroup] = addUnique(tr.proxyWatch[o.APIGroup], o.Resource)
	case node && e.Verb == "get" && o.Resource == "nodes":
		tr.nodeGets[""] = addUnique(tr.nodeGets[""], resourceName(o.Resource, o.Subresource))
	case node && lease:
		tr.nodeLeases = true
	case strings.HasPrefix(name, "system:") && lease:
		tr.leaseUsers[name] = true
	case node && read:
		// Nodes are many and alike: their reads are counted, and
		// dropped, as a group.
		tr.nodeReads++
		tr.nodeDenied = tr.nodeDenied || e.Denied()
	case strings.HasPrefix(name, "system:") && read:
		tr.reads[name]++
	}
	if slices.Contains(writeVerbs, e.Verb) && o.Resource != "" && r.level >= audit.LevelRequest && !sensitive(o) {
		if tr.writes[r.level] == nil {
			tr.writes[r.level] = map[string][]string{}
		}
		tr.writes[r.level][o.APIGroup] = addUnique(tr.writes[r.level][o.APIGroup], resourceName(o.Resource, o.Subresource))
	}
}

// rules is the suggested policy for the traffic of total requests, in
// order: what to drop, what to keep at Metadata, the writes, the rest.
func (tr *traffic) rules(total int) []rule {
	rules := []rule{{comment: "health and metrics endpoints", level: audit.LevelNone,
		urls: []string{"/healthz*", "/livez*", "/readyz*", "/metrics", "/version"}}}
	rules = append(rules, tr.quietRules(total)...)
	sens := map[string][]string{}
	for _, r := range SensitiveResources {
		sens[r.Group] = addUnique(sens[r.Group], resourceName(r.Resource, r.Subresource))
	}
	rules = append(rules, rule{comment: "never log the bodies of secrets, configmaps and tokens", level: audit.LevelMetadata, resources: sens})
	for _, l := range []audit.Level{audit.LevelRequestResponse, audit.LevelRequest} {
		if len(tr.writes[l]) > 0 {
			rules = append(rules, rule{comment: "writes, at the level they were recorded at", level: l, verbs: writeVerbs, resources: tr.writes[l]})
		}
	}
	return append(rules, rule{comment: "everything else, including denials", level: audit.LevelMetadata})
}

// quietRules drop the system components' routine traffic.
func (tr *traffic) quietRules(total int) []rule {
	var rules []rule
	if len(tr.proxyWatch) > 0 {
		rules = append(rules, rule{comment: "kube-proxy watches endpoints and services all the time", level: audit.LevelNone,
			users: []string{"system:kube-proxy"}, verbs: []string{"watch"}, resources: tr.proxyWatch})
	}
	if len(tr.nodeGets) > 0 {
		rules = append(rules, rule{comment: "nodes read their own Node object", level: audit.LevelNone,
			groups: []string{"system:nodes"}, verbs: []string{"get"}, resources: tr.nodeGets})
	}
	if tr.nodeLeases {
		rules = append(rules, rule{comment: "node heartbeats (lease renewals)", level: audit.LevelNone,
			groups: []string{"system:nodes"}, verbs: []string{"get", "update"}, resources: map[string][]string{"coordination.k8s.io": {"leases"}}})
	}
	if users := keys(tr.leaseUsers, tr.deniedRead); len(users) > 0 {
		rules = append(rules, rule{comment: "leader-election lease renewals", level: audit.LevelNone,
			users: users, verbs: []string{"get", "update"}, resources: map[string][]string{"coordination.k8s.io": {"leases"}}})
	}
	var noisy []string
	for u, n := range tr.reads {
		if !tr.deniedRead[u] && float64(n) > noisyShare*float64(total) {
			noisy = append(noisy, u)
		}
	}
	slices.Sort(noisy)
	if !tr.nodeDenied && float64(tr.nodeReads) > noisyShare*float64(total) {
		rules = append(rules, rule{comment: "read-only traffic of the nodes (over 1% of all requests, never denied)",
			level: audit.LevelNone, groups: []string{"system:nodes"}, verbs: readVerbs})
	}
	if len(noisy) > 0 {
		rules = append(rules, rule{comment: "read-only traffic of the noisiest system components (each over 1% of all requests, never denied)",
			level: audit.LevelNone, users: noisy, verbs: readVerbs})
	}
	return rules
}

func sensitive(o audit.ObjectRef) bool {
	return slices.ContainsFunc(SensitiveResources, func(s Sensitive) bool {
		return s.Group == o.APIGroup && s.Resource == o.Resource && (s.Subresource == "" || s.Subresource == o.Subresource)
	})
}

func resourceName(r, sub string) string {
	if sub != "" {
		return r + "/" + sub
	}
	return r
}

func addUnique(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	list = append(list, v)
	slices.Sort(list)
	return list
}

func keys(m map[string]bool, except map[string]bool) []string {
	var out []string
	for k := range m {
		if !except[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// quote writes s as a YAML double-quoted scalar: JSON quoting, plus every
// character that is not printable (DEL, C1 controls such as CSI, bidi
// overrides) escaped, so that names taken from events cannot drive the
// terminal the suggestion is printed on.
func quote(s string) string {
	b, _ := json.Marshal(s)
	var out strings.Builder
	for _, r := range string(b) {
		if unicode.IsPrint(r) || r == ' ' {
			out.WriteRune(r)
		} else if r > 0xffff {
			fmt.Fprintf(&out, "\\U%08x", r)
		} else {
			fmt.Fprintf(&out, "\\u%04x", r)
		}
	}
	return out.String()
}

func flow(v []string) string {
	q := make([]string, len(v))
	for i, s := range v {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// writePolicy renders rules as an audit.k8s.io/v1 Policy, deterministically.
func writePolicy(rules []rule) string {
	var b strings.Builder
	b.WriteString("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [\"RequestReceived\"]\nrules:\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "  # %s\n  - level: %s\n", r.comment, r.level)
		for _, f := range []struct {
			name string
			v    []string
		}{{"users", r.users}, {"userGroups", r.groups}, {"verbs", r.verbs}, {"namespaces", r.namespaces}, {"nonResourceURLs", r.urls}} {
			if len(f.v) > 0 {
				fmt.Fprintf(&b, "    %s: %s\n", f.name, flow(f.v))
			}
		}
		if len(r.resources) > 0 {
			b.WriteString("    resources:\n")
			groups := make([]string, 0, len(r.resources))
			for g := range r.resources {
				groups = append(groups, g)
			}
			slices.SortFunc(groups, cmp.Compare)
			for _, g := range groups {
				fmt.Fprintf(&b, "      - group: %s\n        resources: %s\n", quote(g), flow(r.resources[g]))
			}
		}
	}
	return b.String()
}

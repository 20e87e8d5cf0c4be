package rbac

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
)

// Options change what Suggest grants.
type Options struct {
	// NoResourceNames widens rules to every object of a resource instead of
	// the objects the denials named.
	NoResourceNames bool
	// IncludeRisky emits the objects that carry a warning like the others;
	// without it they are withheld (Suggestion.Withheld): see risky.go.
	IncludeRisky bool
}

// Rule is one RBAC PolicyRule. Suggest builds rules whose cross product
// (verbs × resources × resourceNames) is exactly the denied requests, so a
// rule never grants a combination that was not denied.
type Rule struct {
	APIGroups       []string
	Resources       []string
	ResourceNames   []string
	NonResourceURLs []string
	Verbs           []string
}

// Permissions counts the (verb, resource, name) or (verb, URL) pairs the
// rule grants; a rule without resourceNames counts each resource once.
func (r Rule) Permissions() int {
	if len(r.NonResourceURLs) > 0 {
		return len(r.Verbs) * len(r.NonResourceURLs)
	}
	return len(r.Verbs) * len(r.Resources) * max(1, len(r.ResourceNames)) * max(1, len(r.APIGroups))
}

// SubjectRef is a binding's subject.
type SubjectRef struct {
	Kind      string // User or ServiceAccount
	Name      string
	Namespace string // ServiceAccount only
}

// Object is one suggested RBAC object: a Role or ClusterRole (Rules), or a
// RoleBinding or ClusterRoleBinding (Subject, RoleKind, RoleName).
type Object struct {
	Kind      string
	Name      string
	Namespace string // "" for cluster-scoped objects
	Rules     []Rule
	Subject   SubjectRef
	RoleKind  string
	RoleName  string
	Warnings  []string
}

// Suggestion is the minimal set of RBAC objects that allows the chosen
// denied requests, with what it could not or should not do.
type Suggestion struct {
	Objects  []Object
	Warnings []string // every warning, in object order
	Skipped  []string // denials left out, and why
	Covered  []Denial // the denials the objects allow
	Withheld []Object // risky objects left out of Objects (see risky.go), role then binding
}

// Permissions counts what the suggested roles grant (see Rule.Permissions).
func (s *Suggestion) Permissions() int {
	n := 0
	for _, o := range s.Objects {
		for _, r := range o.Rules {
			n += r.Permissions()
		}
	}
	return n
}

// Suggest returns the RBAC objects that allow exactly the RBAC denials
// among denials: per subject, a Role and RoleBinding in each namespace its
// namespaced requests were denied in, and one ClusterRole and
// ClusterRoleBinding for cluster-scoped resources, requests across all
// namespaces and non-resource URLs. Denials of other kinds, and denials
// that were allowed later, are skipped with a reason. Names and order are
// deterministic.
func Suggest(denials []Denial, opt Options) *Suggestion {
	s := &Suggestion{}
	type scope struct{ subject, namespace string }
	byScope := map[scope][]Denial{}
	for _, d := range denials {
		switch {
		case d.Kind != KindRBAC:
			s.Skipped = append(s.Skipped, fmt.Sprintf("%s: refused by %s, not RBAC: %s", describe(d.Request), d.Kind, kindAdvice(d.Kind)))
			continue
		case d.Subject == "":
			s.Skipped = append(s.Skipped, fmt.Sprintf("%s: no user in the event", describe(d.Request)))
			continue
		case hasStar(d.Request):
			s.Skipped = append(s.Skipped, fmt.Sprintf("%s: a '*' in the request would be a wildcard in a rule", describe(d.Request)))
			continue
		case d.Fixed():
			s.Skipped = append(s.Skipped, fmt.Sprintf("%s: allowed since %s (%s)", describe(d.Request), d.AllowedAt.UTC().Format("2006-01-02T15:04:05Z"), orEmpty(d.Allowed)))
			continue
		}
		s.Covered = append(s.Covered, d)
		ns := d.Namespace
		if d.NonResource() {
			ns = ""
		}
		k := scope{d.Subject, ns}
		byScope[k] = append(byScope[k], d)
	}
	scopes := make([]scope, 0, len(byScope))
	for k := range byScope {
		scopes = append(scopes, k)
	}
	sort.Slice(scopes, func(i, j int) bool {
		a, b := scopes[i], scopes[j]
		if a.subject != b.subject {
			return a.subject < b.subject
		}
		return a.namespace < b.namespace // "" (cluster) first
	})
	for _, k := range scopes {
		ds := byScope[k]
		role := Object{Kind: "Role", Name: objectName(k.subject), Namespace: k.namespace, Rules: buildRules(ds, opt)}
		binding := Object{Kind: "RoleBinding", Name: role.Name, Namespace: k.namespace, Subject: subjectRef(k.subject), RoleKind: "Role", RoleName: role.Name}
		if k.namespace == "" {
			role.Kind, binding.Kind, binding.RoleKind = "ClusterRole", "ClusterRoleBinding", "ClusterRole"
		}
		role.Warnings = roleWarnings(role, ds)
		binding.Warnings = subjectWarnings(k.subject, ds)
		withhold := !opt.IncludeRisky && len(role.Warnings)+len(binding.Warnings) > 0
		for _, o := range []Object{role, binding} {
			for _, w := range o.Warnings {
				s.Warnings = append(s.Warnings, o.Ref()+": "+w)
			}
			if withhold {
				s.Withheld = append(s.Withheld, o)
			} else {
				s.Objects = append(s.Objects, o)
			}
		}
		if withhold {
			s.withheldDenials(ds)
		}
	}
	return s
}

// Ref names the object the way kubectl does: kind/name or kind/namespace/name.
func (o Object) Ref() string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

func describe(r Request) string {
	s := r.Subject + " " + r.Verb + " " + r.ResourceKey()
	if r.Name != "" {
		s += " " + r.Name
	}
	if r.Namespace != "" {
		s += " in " + r.Namespace
	}
	return s
}

func hasStar(r Request) bool {
	return strings.Contains(r.Verb+r.APIGroup+r.Resource+r.Subresource+r.Name+r.Path, "*")
}

func orEmpty(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}

func kindAdvice(k Kind) string {
	switch k {
	case KindNode:
		return "the Node authorizer limits kubelets to their own node's objects; do not widen it with RBAC"
	case KindWebhook:
		return "a webhook authorizer refused it; change that authorizer's policy"
	case KindImpersonation:
		return "the log does not record whom the request tried to impersonate"
	case KindAdmission:
		return "the request was authorized and then refused by admission; RBAC cannot fix it"
	}
	return "nothing in the event says which component refused it"
}

// objectName is the name of every object suggested for a subject:
// "kaudit:" and the subject, with characters a name cannot hold replaced
// (and then a short hash, so two subjects never share a name).
func objectName(subject string) string {
	clean := strings.Map(func(r rune) rune {
		if r == '/' || r == '%' || r < 0x21 || r == 0x7f || r > 0x7e {
			return '-'
		}
		return r
	}, subject)
	if clean == subject {
		return "kaudit:" + subject
	}
	h := fnv.New32a()
	h.Write([]byte(subject))
	return fmt.Sprintf("kaudit:%s-%08x", clean, h.Sum32())
}

const saPrefix = "system:serviceaccount:"

// subjectRef binds a service account as kind ServiceAccount, anyone else
// as kind User.
func subjectRef(subject string) SubjectRef {
	if rest, ok := strings.CutPrefix(subject, saPrefix); ok {
		if ns, name, ok := strings.Cut(rest, ":"); ok && ns != "" && name != "" && !strings.Contains(name, ":") {
			return SubjectRef{Kind: "ServiceAccount", Name: name, Namespace: ns}
		}
	}
	return SubjectRef{Kind: "User", Name: subject}
}

// nameFor says which object name a denied request's rule should list:
// none for a create of an object (the authorizer never sees its name, so a
// rule naming it would not match; a create on a subresource such as
// pods/exec does name its object) or when the caller asked for none.
func nameFor(d Denial, opt Options) string {
	if opt.NoResourceNames || d.Verb == "create" && d.Subresource == "" {
		return ""
	}
	return d.Name
}

// buildRules turns denials of one subject and scope into rules whose cross
// products are exactly the denied (verb, resource, name) triples: group by
// target to get each one's verbs, then merge targets with equal verbs.
func buildRules(ds []Denial, opt Options) []Rule {
	type target struct{ group, resource, name string }
	verbs := map[target]map[string]bool{}
	urls := map[string]map[string]bool{}
	add := func(m map[string]bool, v string) map[string]bool {
		if m == nil {
			m = map[string]bool{}
		}
		m[v] = true
		return m
	}
	for _, d := range ds {
		if d.NonResource() {
			urls[d.Path] = add(urls[d.Path], d.Verb)
			continue
		}
		res := d.Resource
		if d.Subresource != "" {
			res += "/" + d.Subresource
		}
		t := target{d.APIGroup, res, nameFor(d, opt)}
		verbs[t] = add(verbs[t], d.Verb)
	}
	// A named target needs only the verbs its resource is not granted on all names.
	for t, vs := range verbs {
		if t.name == "" {
			continue
		}
		for v := range verbs[target{t.group, t.resource, ""}] {
			delete(vs, v)
		}
		if len(vs) == 0 {
			delete(verbs, t)
		}
	}
	// (group, resource, verbs) -> names; then (group, verbs, names) -> resources.
	type gv struct{ group, resource, verbs string }
	names := map[gv][]string{}
	for t, vs := range verbs {
		k := gv{t.group, t.resource, joinSet(vs)}
		names[k] = append(names[k], t.name)
	}
	type gvn struct{ group, verbs, names string }
	resources := map[gvn][]string{}
	for k, ns := range names {
		sort.Strings(ns)
		key := gvn{k.group, k.verbs, strings.Join(ns, "\x00")}
		resources[key] = append(resources[key], k.resource)
	}
	var rules []Rule
	for k, rs := range resources {
		sort.Strings(rs)
		r := Rule{APIGroups: []string{k.group}, Resources: rs, Verbs: strings.Split(k.verbs, "\x00")}
		if k.names != "" {
			r.ResourceNames = strings.Split(k.names, "\x00")
		}
		rules = append(rules, r)
	}
	// Non-resource URLs: path -> verbs, then verbs -> paths.
	paths := map[string][]string{}
	for p, vs := range urls {
		k := joinSet(vs)
		paths[k] = append(paths[k], p)
	}
	for vs, ps := range paths {
		sort.Strings(ps)
		rules = append(rules, Rule{NonResourceURLs: ps, Verbs: strings.Split(vs, "\x00")})
	}
	sort.Slice(rules, func(i, j int) bool { return ruleKey(rules[i]) < ruleKey(rules[j]) })
	return rules
}

func joinSet(m map[string]bool) string {
	s := make([]string, 0, len(m))
	for v := range m {
		s = append(s, v)
	}
	sort.Strings(s)
	return strings.Join(s, "\x00")
}

func ruleKey(r Rule) string {
	nr := "0"
	if len(r.NonResourceURLs) > 0 {
		nr = "1"
	}
	return strings.Join([]string{nr, strings.Join(r.APIGroups, ","), strings.Join(r.Resources, ","),
		strings.Join(r.NonResourceURLs, ","), strings.Join(r.ResourceNames, ","), strings.Join(r.Verbs, ",")}, "\x01")
}

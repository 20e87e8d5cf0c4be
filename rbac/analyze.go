// Package rbac explains the denials in an audit trail and suggests the
// minimal RBAC objects that would allow exactly the denied requests: a Role
// and RoleBinding per namespace, a ClusterRole and ClusterRoleBinding for
// cluster-scoped resources and non-resource URLs, with loud warnings for
// grants that escalate.
//
// Everything here is a plain function over values: Analyze reads a store
// once (under its read lock) and returns copies, Suggest works on those.
package rbac

import (
	"sort"
	"strings"
	"time"

	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

// Kind says which part of the API server refused a request.
type Kind string

// Denial kinds. Only KindRBAC denials can be fixed with RBAC objects.
const (
	KindRBAC          Kind = "RBAC"          // no authorizer allowed it; RBAC is the one to change
	KindNode          Kind = "Node"          // the Node authorizer refused a kubelet's request
	KindWebhook       Kind = "webhook"       // an authorizer gave a reason RBAC never gives (webhook, ABAC)
	KindImpersonation Kind = "impersonation" // the impersonation filter refused; the target is not in the log
	KindAdmission     Kind = "admission"     // authorized, then refused by admission (403 after allow)
	KindOther         Kind = "other"         // a 403 that says nothing about who refused it
)

// Request is what an authorizer saw of one request.
type Request struct {
	Subject     string // the impersonated user when there was one, else the authenticated user
	Verb        string
	APIGroup    string
	Resource    string
	Subresource string
	Namespace   string
	Name        string
	Path        string // a non-resource request's path (Resource is empty)
}

// ResourceKey writes the target the way kubectl names it:
// resource[.group][/subresource], or the path of a non-resource request.
func (r Request) ResourceKey() string {
	if r.Resource == "" {
		return r.Path
	}
	k := r.Resource
	if r.APIGroup != "" {
		k += "." + r.APIGroup
	}
	if r.Subresource != "" {
		k += "/" + r.Subresource
	}
	return k
}

// NonResource reports whether the request was for a URL path, not an object.
func (r Request) NonResource() bool { return r.Resource == "" }

// Denial is one distinct denied request with how often it happened.
type Denial struct {
	Request
	Groups      []string // the subject's groups (from the last denied event)
	Kind        Kind
	Count       int
	First, Last time.Time
	Reason      string // authorization.k8s.io/reason of the last event
	Message     string // responseStatus.message of the last event
	// Allowed is the reason of an allowed request identical to this one, if
	// any; AllowedAt is when. If AllowedAt is after Last the denial has
	// been fixed since; if before, access was probably revoked on purpose.
	Allowed   string
	AllowedAt time.Time
	// RevokedBy names the RBAC change between the last allow and the
	// denial, when the caller found one (history.RevokedBy).
	RevokedBy string
}

// Fixed reports whether the same request was allowed after its last denial.
func (d *Denial) Fixed() bool { return !d.AllowedAt.IsZero() && d.AllowedAt.After(d.Last) }

// Revoked reports whether the same request was allowed before and is denied now.
func (d *Denial) Revoked() bool { return !d.AllowedAt.IsZero() && !d.AllowedAt.After(d.Last) }

// Grant is one authorizer reason for a subject's allowed requests, e.g.
// `RBAC: allowed by RoleBinding "bob-pod-reader/dev-1" of Role "pod-reader" to User "bob"`.
type Grant struct {
	Subject string
	Reason  string
	Count   int
}

// Analysis is every denial in a set of requests, and what the same
// subjects were allowed.
type Analysis struct {
	Denials []Denial // by subject, then verb, resource, namespace, name
	Grants  []Grant  // by subject, then count (most first), reason; only subjects with denials
}

// Analyze groups the denied requests of set (one event per request, as
// store.Requests gives) and collects, for the same subjects, the reasons
// of their allowed requests.
func Analyze(st *store.Store, set *store.Set) *Analysis {
	type allow struct {
		reason string
		at     time.Time
	}
	type key struct {
		Request
		Kind
	}
	denials := map[key]*Denial{}
	allowedLast := map[Request]allow{}
	grants := map[[2]string]int{}
	st.Each(set, func(e *store.Entry) bool {
		r := requestOf(e)
		// The store's Denied leaves out 403s after an allow decision:
		// admission refusals, which belong here too.
		if !e.Denied && e.Code != 403 {
			if e.Decision == "allow" || e.Decision == "" && e.Code >= 200 && e.Code < 400 {
				if a := allowedLast[r]; !e.Time.Before(a.at) {
					allowedLast[r] = allow{strings.Clone(e.Reason), e.Time}
				}
				if e.Reason != "" {
					grants[[2]string{r.Subject, strings.Clone(e.Reason)}]++
				}
			}
			return true
		}
		kind := classify(e)
		d := denials[key{r, kind}]
		if d == nil {
			d = &Denial{Request: cloneRequest(r), Kind: kind, First: e.Time, Last: e.Time}
			denials[key{d.Request, kind}] = d
		}
		d.Count++
		if e.Time.Before(d.First) {
			d.First = e.Time
		}
		if !e.Time.Before(d.Last) {
			d.Last = e.Time
			d.Reason, d.Message = strings.Clone(e.Reason), strings.Clone(e.Message)
			d.Groups = cloneStrings(e.Subject().Groups)
		}
		return true
	})
	a := &Analysis{}
	subjects := map[string]bool{}
	for k, d := range denials {
		if al, ok := allowedLast[k.Request]; ok {
			d.Allowed, d.AllowedAt = al.reason, al.at
		}
		subjects[d.Subject] = true
		a.Denials = append(a.Denials, *d)
	}
	sort.Slice(a.Denials, func(i, j int) bool {
		x, y := a.Denials[i], a.Denials[j]
		if x.Request != y.Request {
			return lessRequest(x.Request, y.Request)
		}
		return x.Kind < y.Kind
	})
	for k, n := range grants {
		if subjects[k[0]] {
			a.Grants = append(a.Grants, Grant{Subject: k[0], Reason: k[1], Count: n})
		}
	}
	sort.Slice(a.Grants, func(i, j int) bool {
		x, y := a.Grants[i], a.Grants[j]
		if x.Subject != y.Subject {
			return x.Subject < y.Subject
		}
		if x.Count != y.Count {
			return x.Count > y.Count
		}
		return x.Reason < y.Reason
	})
	return a
}

func requestOf(e *store.Entry) Request {
	return Request{
		Subject:     e.Subject().Name,
		Verb:        e.Verb,
		APIGroup:    e.Object.APIGroup,
		Resource:    e.Object.Resource,
		Subresource: e.Object.Subresource,
		Namespace:   e.Object.Namespace,
		Name:        e.Object.Name,
		Path:        nonResourcePath(e),
	}
}

func nonResourcePath(e *store.Entry) string {
	if e.Object.Resource != "" {
		return ""
	}
	return e.Path
}

func cloneRequest(r Request) Request {
	return Request{
		Subject: strings.Clone(r.Subject), Verb: strings.Clone(r.Verb),
		APIGroup: strings.Clone(r.APIGroup), Resource: strings.Clone(r.Resource), Subresource: strings.Clone(r.Subresource),
		Namespace: strings.Clone(r.Namespace), Name: strings.Clone(r.Name), Path: strings.Clone(r.Path),
	}
}

func cloneStrings(ss []string) []string {
	if ss == nil {
		return nil
	}
	c := make([]string, len(ss))
	for i, s := range ss {
		c[i] = strings.Clone(s)
	}
	return c
}

func lessRequest(a, b Request) bool {
	for _, p := range [...][2]string{
		{a.Subject, b.Subject}, {a.Verb, b.Verb}, {a.ResourceKey(), b.ResourceKey()},
		{a.Namespace, b.Namespace}, {a.Name, b.Name},
	} {
		if p[0] != p[1] {
			return p[0] < p[1]
		}
	}
	return false
}

// classify says who refused a denied request. The authorizer chain's
// refusal carries decision forbid; its reason is empty for plain RBAC
// denials, starts with "node:" (or the subject is a node) for the Node
// authorizer, and is anything else for webhook authorizers. A 403 after an
// allow decision came from admission. Old logs have no decision at all:
// there the message "User "x" cannot ..." still marks an authorizer.
func classify(e *store.Entry) Kind { return Kind(views.DenialCause(e)) }

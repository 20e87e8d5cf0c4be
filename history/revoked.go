package history

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kaudit/kaudit/store"
)

const rbacGroup = "rbac.authorization.k8s.io"

// RBACChange is a successful, non-dry-run change to a Role, RoleBinding,
// ClusterRole or ClusterRoleBinding: what could take a permission away.
type RBACChange struct {
	Time      time.Time `json:"time"`
	User      string    `json:"user"`
	Verb      string    `json:"verb"`
	Resource  string    `json:"resource"`
	Namespace string    `json:"namespace,omitempty"`
	Name      string    `json:"name,omitempty"` // "" for a deletecollection
	AuditID   string    `json:"auditID,omitempty"`
	// Unverified: the log does not show whom the binding (or the bindings
	// of the role) covered, so whether it took the permission is a guess.
	Unverified bool `json:"unverified,omitempty"`
}

// String reads "RoleBinding prod/gina-view deleted by root at T".
func (c RBACChange) String() string {
	kind := map[string]string{"roles": "Role", "rolebindings": "RoleBinding", "clusterroles": "ClusterRole", "clusterrolebindings": "ClusterRoleBinding"}[c.Resource]
	obj := c.Name
	if obj == "" {
		obj = "*"
	}
	if c.Namespace != "" {
		obj = c.Namespace + "/" + obj
	}
	did := map[string]string{"delete": "deleted", "deletecollection": "deleted (deletecollection)", "update": "changed", "patch": "changed"}[c.Verb]
	s := fmt.Sprintf("%s %s %s by %s at %s", kind, obj, did, c.User, c.Time.UTC().Format(time.RFC3339))
	if c.Unverified {
		s += " (unverified: the log does not show whom it covered)"
	}
	return s
}

// RBACChangesBetween lists the RBAC changes after from and at or before to
// that could have revoked who's permission in namespace ns ("" for a
// cluster-scoped request): deletions and edits of the Roles and
// RoleBindings of ns and of every ClusterRole and ClusterRoleBinding.
// A binding the log shows did not cover who (its subjects, before the
// change), or a role no such binding bound, is left out; one whose
// content the log does not hold is kept, marked unverified. Verified
// changes come first, then deletions of bindings (the likeliest cause),
// then by time.
func RBACChangesBetween(st *store.Store, who Subject, ns string, from, to time.Time) []RBACChange {
	set := st.Postings(store.FieldAPIGroup, rbacGroup)
	set.And(st.Requests())
	verbs := st.Postings(store.FieldVerb, "delete")
	for _, v := range []string{"deletecollection", "update", "patch"} {
		verbs.Or(st.Postings(store.FieldVerb, v))
	}
	set.And(verbs)
	var out []RBACChange
	rr := newRawReader(st)
	st.Each(set, func(e *store.Entry) bool {
		o := e.Object
		switch {
		case !e.Time.After(from) || e.Time.After(to), e.Code < 200 || e.Code >= 300, o.Subresource != "":
			return true
		case strings.HasPrefix(o.Resource, "cluster"):
		case o.Namespace == "" || o.Namespace != ns:
			return true
		}
		if raw, err := rr.Raw(e.ID); err == nil && bytes.Contains(raw, []byte("dryRun")) {
			var r Request
			readBody(&r, raw)
			if dryRun(r.URI) {
				return true
			}
		}
		out = append(out, RBACChange{Time: e.Time, User: e.Subject().Name, Verb: e.Verb, Resource: o.Resource,
			Namespace: o.Namespace, Name: o.Name, AuditID: e.AuditID})
		return true
	})
	kept, h := out[:0], histories{}
	for _, c := range out {
		switch h.verify(st, who, c) {
		case "yes":
			kept = append(kept, c)
		case "unverified":
			c.Unverified = true
			kept = append(kept, c)
		}
	}
	out = kept
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Unverified != out[j].Unverified {
			return !out[i].Unverified
		}
		if bi, bj := likely(out[i]), likely(out[j]); bi != bj {
			return bi
		}
		return out[i].Time.Before(out[j].Time)
	})
	return out
}

// likely: a deleted binding is the usual way a permission goes.
func likely(c RBACChange) bool {
	return strings.HasSuffix(c.Resource, "bindings") && strings.HasPrefix(c.Verb, "delete")
}

// RevokedBy is RBACChangesBetween summed up in one line for a denial
// table: the likeliest change, and how many others there were.
func RevokedBy(st *store.Store, who Subject, ns string, from, to time.Time) string {
	cs := RBACChangesBetween(st, who, ns, from, to)
	switch len(cs) {
	case 0:
		return ""
	case 1:
		return cs[0].String()
	}
	return fmt.Sprintf("%s (and %d other RBAC changes)", cs[0], len(cs)-1)
}

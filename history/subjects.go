package history

import (
	"encoding/json"
	"regexp"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kaudit/kaudit/store"
)

// Subject is who a denial refused, and the authorizer's reason for the
// last allow of the same request ("" when unknown):
// `RBAC: allowed by RoleBinding "NAME/NS" of Role "ROLE" to User "U"`.
type Subject struct {
	User        string
	Groups      []string
	AllowReason string
}

// covers reports whether one of subjects (of a binding in namespace ns,
// "" for a ClusterRoleBinding) is who: the user, one of the groups, or
// the service account the user name spells.
func (who Subject) covers(subjects []rbacv1.Subject, ns string) bool {
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			if s.Name == who.User {
				return true
			}
		case rbacv1.GroupKind:
			if slices.Contains(who.Groups, s.Name) {
				return true
			}
		case rbacv1.ServiceAccountKind:
			sns := s.Namespace
			if sns == "" {
				sns = ns
			}
			if who.User == "system:serviceaccount:"+sns+":"+s.Name {
				return true
			}
		}
	}
	return false
}

// allowedBy is the binding and role the allow reason names: kinds as the
// API spells them (RoleBinding, ClusterRole...), the binding's namespace
// ("" for a ClusterRoleBinding).
type allowedBy struct{ bindingKind, binding, bindingNS, roleKind, role string }

var reasonRE = regexp.MustCompile(`allowed by (ClusterRoleBinding|RoleBinding) "([^"/]*)(?:/([^"]*))?" of (ClusterRole|Role) "([^"]*)"`)

func parseReason(reason string) (allowedBy, bool) {
	m := reasonRE.FindStringSubmatch(reason)
	if m == nil {
		return allowedBy{}, false
	}
	return allowedBy{bindingKind: m[1], binding: m[2], bindingNS: m[3], roleKind: m[4], role: m[5]}, true
}

// names reports whether the reason names change's object.
func (a allowedBy) names(c RBACChange) bool {
	switch kindOfResource[c.Resource] {
	case a.bindingKind:
		return c.Name == a.binding && c.Namespace == a.bindingNS || c.Name == "" && c.Namespace == a.bindingNS
	case a.roleKind:
		return c.Name == a.role && (a.roleKind == "ClusterRole" || c.Namespace == a.bindingNS) || c.Name == "" && a.roleKind == "Role" && c.Namespace == a.bindingNS
	}
	return false
}

var kindOfResource = map[string]string{"roles": "Role", "rolebindings": "RoleBinding", "clusterroles": "ClusterRole", "clusterrolebindings": "ClusterRoleBinding"}

// binding is a RoleBinding or ClusterRoleBinding as a revision holds it.
type binding struct {
	Subjects []rbacv1.Subject `json:"subjects"`
	RoleRef  rbacv1.RoleRef   `json:"roleRef"`
}

func bindingOf(obj map[string]any) (binding, bool) {
	var b binding
	if obj == nil {
		return b, false
	}
	raw, err := json.Marshal(obj)
	if err != nil || json.Unmarshal(raw, &b) != nil {
		return b, false
	}
	return b, true
}

// histories are the RBAC objects' timelines, each rebuilt once per
// RBACChangesBetween.
type histories map[Ref][]Step

// around is the object ref was just before change c (its request
// auditID, or c's time when auditID is ""), and after it (nil when c
// deleted it or its content is unknown), rebuilt from the log. Either is
// nil when the log does not hold it (no body, an unavailable revision).
func (h histories) around(st *store.Store, ref Ref, auditID string, c RBACChange) (old, after map[string]any, gone bool) {
	steps, ok := h[ref]
	if !ok {
		reqs, err := Load(st, ref)
		if err != nil {
			return nil, nil, false
		}
		steps = Rebuild(ref, reqs)
		h[ref] = steps
	}
	for _, s := range steps {
		if s.AuditID == auditID && auditID != "" {
			if s.Revision != nil {
				after = s.Revision.Object
			}
			break
		}
		if s.Time.After(c.Time) {
			break
		}
		switch {
		case s.Revision != nil:
			old, gone = s.Revision.Object, false // nil when unavailable: the content is unknown
		case s.Ends || s.MaybeEnds:
			old, gone = nil, s.Ends
		}
	}
	return old, after, gone
}

// verify says whether change c could have taken who's permission, from
// what the log holds: "yes" (a binding that covered who, or a role such
// a binding bound), "no" (a binding whose known subjects never covered
// who), or "unverified" (its content is not in the log).
func (h histories) verify(st *store.Store, who Subject, c RBACChange) string {
	if a, ok := parseReason(who.AllowReason); ok && a.names(c) {
		return "yes"
	}
	if c.Name == "" {
		return "unverified" // a deletecollection: which items, the log may not say
	}
	ref := Ref{Group: rbacGroup, Resource: c.Resource, Namespace: c.Namespace, Name: c.Name}
	if kindOfResource[c.Resource] == "Role" || kindOfResource[c.Resource] == "ClusterRole" {
		return h.verifyRole(st, who, c, ref)
	}
	old, after, _ := h.around(st, ref, c.AuditID, c)
	b, ok := bindingOf(old)
	switch {
	case old == nil || !ok:
		return "unverified"
	case !who.covers(b.Subjects, c.Namespace):
		return "no"
	}
	// It covered who. An edit that kept who under the same role took
	// nothing away.
	if n, ok := bindingOf(after); after != nil && ok && n.RoleRef == b.RoleRef && who.covers(n.Subjects, c.Namespace) {
		return "no"
	}
	return "yes"
}

// verifyRole: a role change matters when a binding whose known subjects
// cover who binds the role. Bindings the log holds no body of leave it
// unverified; when every binding of the role is known and none covers
// who, it does not matter.
func (h histories) verifyRole(st *store.Store, who Subject, c RBACChange, role Ref) string {
	kind := kindOfResource[c.Resource]
	set := st.Postings(store.FieldAPIGroup, rbacGroup)
	set.And(st.Requests())
	var refs []Ref
	seen := map[Ref]bool{}
	st.ObjectRows(set, func(o *store.ObjectRow) bool {
		r := Ref{Group: rbacGroup, Resource: o.Resource, Namespace: o.Namespace, Name: o.Name}
		isBinding := o.Resource == "clusterrolebindings" || o.Resource == "rolebindings" && (kind == "ClusterRole" || o.Namespace == role.Namespace)
		if isBinding && o.Name != "" && !seen[r] && o.Time <= c.Time.UnixNano() {
			seen[r] = true
			refs = append(refs, r)
		}
		return true
	})
	verdict := "no"
	if len(refs) == 0 {
		verdict = "unverified" // no binding of it in the log
	}
	for _, r := range refs {
		obj, _, gone := h.around(st, r, "", c)
		if gone {
			continue // deleted before: it bound nothing then
		}
		if obj == nil {
			verdict = "unverified"
			continue
		}
		if b, ok := bindingOf(obj); ok && b.RoleRef.Kind == kind && b.RoleRef.Name == role.Name && who.covers(b.Subjects, r.Namespace) {
			return "yes"
		}
	}
	return verdict
}

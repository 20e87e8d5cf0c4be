// Package history rebuilds one object's life from an audit trail: every
// request that touched it (subresources folded in), and its revisions,
// each exact (a full body the server returned), approximate (a request body
// or a patch applied to the previous revision) or unavailable (Metadata
// level: who and when, no content), with diffs between them.
package history

import (
	"fmt"
	"strings"
)

// Ref names an object: RESOURCE[.GROUP]/NAMESPACE/NAME, or
// RESOURCE[.GROUP]/NAME for a cluster-scoped one.
type Ref struct {
	Group, Resource, Namespace, Name string
}

// ParseRef reads "pods/NS/NAME", "deployments.apps/NS/NAME" or
// "clusterroles.rbac.authorization.k8s.io/NAME".
func ParseRef(s string) (Ref, error) {
	parts := strings.Split(s, "/")
	var r Ref
	switch len(parts) {
	case 2:
		r.Name = parts[1]
	case 3:
		r.Namespace, r.Name = parts[1], parts[2]
	default:
		return r, fmt.Errorf("object %q: want RESOURCE[.GROUP]/NAMESPACE/NAME or RESOURCE[.GROUP]/NAME", s)
	}
	r.Resource, r.Group, _ = strings.Cut(parts[0], ".")
	if r.Resource == "" || r.Name == "" || (len(parts) == 3 && r.Namespace == "") {
		return r, fmt.Errorf("object %q: empty resource, namespace or name", s)
	}
	return r, nil
}

// String is the form ParseRef reads.
func (r Ref) String() string {
	res := r.Resource
	if r.Group != "" {
		res += "." + r.Group
	}
	if r.Namespace == "" {
		return res + "/" + r.Name
	}
	return res + "/" + r.Namespace + "/" + r.Name
}

package rbac

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// escalating names the resources whose grants hand out more than they
// seem to, and why.
var escalating = map[string]string{
	"secrets":                             "secrets hold credentials, including service account tokens",
	"nodes/proxy":                         "nodes/proxy reaches the kubelet API: exec into any pod on the node",
	"pods/exec":                           "pods/exec runs commands in containers, with their service accounts and secrets",
	"pods/attach":                         "pods/attach reaches running containers like pods/exec",
	"serviceaccounts/token":               "serviceaccounts/token mints tokens: act as that service account",
	"certificatesigningrequests/approval": "approving CSRs can mint client certificates for any user",
}

// escalatingVerbs are verbs that grant power over other grants or identities.
var escalatingVerbs = map[string]string{
	"escalate":    "escalate lets roles grant permissions the subject does not hold",
	"bind":        "bind lets the subject bind roles with permissions it does not hold",
	"impersonate": "impersonate lets the subject act as other users, groups or service accounts",
}

// adminLike are resources where write access amounts to cluster admin.
var adminLike = map[string]bool{
	"rbac.authorization.k8s.io/roles":                                true,
	"rbac.authorization.k8s.io/clusterroles":                         true,
	"rbac.authorization.k8s.io/rolebindings":                         true,
	"rbac.authorization.k8s.io/clusterrolebindings":                  true,
	"admissionregistration.k8s.io/mutatingwebhookconfigurations":     true,
	"admissionregistration.k8s.io/validatingwebhookconfigurations":   true,
	"admissionregistration.k8s.io/validatingadmissionpolicies":       true,
	"admissionregistration.k8s.io/validatingadmissionpolicybindings": true,
	"admissionregistration.k8s.io/mutatingadmissionpolicies":         true,
	"admissionregistration.k8s.io/mutatingadmissionpolicybindings":   true,
	"apiextensions.k8s.io/customresourcedefinitions":                 true,
	"certificates.k8s.io/certificatesigningrequests/approval":        true,
	"apiregistration.k8s.io/apiservices":                             true,
}

// clusterScoped are the built-in resources that have no namespace: a
// ClusterRole rule on anything else reaches into every namespace.
var clusterScoped = map[string]bool{}

func init() {
	for _, gr := range []string{
		"/nodes", "/namespaces", "/persistentvolumes", "/componentstatuses",
		"rbac.authorization.k8s.io/clusterroles", "rbac.authorization.k8s.io/clusterrolebindings",
		"storage.k8s.io/storageclasses", "storage.k8s.io/csinodes", "storage.k8s.io/csidrivers", "storage.k8s.io/volumeattachments",
		"apiextensions.k8s.io/customresourcedefinitions", "apiregistration.k8s.io/apiservices",
		"certificates.k8s.io/certificatesigningrequests", "scheduling.k8s.io/priorityclasses",
		"node.k8s.io/runtimeclasses", "networking.k8s.io/ingressclasses", "flowcontrol.apiserver.k8s.io/flowschemas",
		"flowcontrol.apiserver.k8s.io/prioritylevelconfigurations",
		"admissionregistration.k8s.io/mutatingwebhookconfigurations", "admissionregistration.k8s.io/validatingwebhookconfigurations",
		"admissionregistration.k8s.io/validatingadmissionpolicies", "admissionregistration.k8s.io/validatingadmissionpolicybindings",
		"authentication.k8s.io/tokenreviews", "authentication.k8s.io/selfsubjectreviews",
		"authorization.k8s.io/subjectaccessreviews", "authorization.k8s.io/selfsubjectaccessreviews", "authorization.k8s.io/selfsubjectrulesreviews",
	} {
		clusterScoped[gr] = true
	}
}

var writeVerbs = []string{"create", "update", "patch", "delete", "deletecollection", "escalate", "bind"}

// roleWarnings says what is dangerous about a suggested role's rules.
func roleWarnings(o Object, ds []Denial) []string {
	var ws []string
	scope := "in namespace " + o.Namespace
	if o.Namespace == "" {
		scope = "in every namespace and cluster-wide"
	}
	for _, r := range o.Rules {
		grant := fmt.Sprintf("%s on %s", strings.Join(r.Verbs, ","), ruleTarget(r))
		if hasWildcard(r) {
			ws = append(ws, "WILDCARD: "+grant+": '*' grants everything, including what does not exist yet")
		}
		for _, v := range r.Verbs {
			if why, ok := escalatingVerbs[v]; ok {
				ws = append(ws, fmt.Sprintf("ESCALATION: %s %s: %s", grant, scope, why))
			}
		}
		for _, res := range r.Resources {
			if why, ok := escalating[res]; ok {
				one := Rule{APIGroups: r.APIGroups, Resources: []string{res}, ResourceNames: r.ResourceNames}
				ws = append(ws, fmt.Sprintf("SENSITIVE: %s on %s %s: %s", strings.Join(r.Verbs, ","), ruleTarget(one), scope, why))
			}
			key := res
			if g := r.APIGroups[0]; g != "" {
				key = g + "/" + res
			}
			if adminLike[key] && slices.ContainsFunc(r.Verbs, func(v string) bool { return slices.Contains(writeVerbs, v) }) {
				ws = append(ws, fmt.Sprintf("CLUSTER-ADMIN-LIKE: %s %s: writing %s can grant or intercept anything", grant, scope, key))
			}
		}
	}
	if o.Namespace == "" {
		for _, r := range o.Rules {
			for _, res := range r.Resources {
				base, _, _ := strings.Cut(res, "/")
				if !clusterScoped[r.APIGroups[0]+"/"+base] {
					ws = append(ws, fmt.Sprintf("CLUSTER-WIDE: %s on %s across all namespaces (the denied request was not limited to one)", strings.Join(r.Verbs, ","), ruleTarget(Rule{APIGroups: r.APIGroups, Resources: []string{res}, ResourceNames: r.ResourceNames})))
				}
			}
		}
	}
	for _, d := range ds {
		if d.Revoked() {
			w := fmt.Sprintf("REVOKED?: %s was allowed until %s (%s): access may have been removed on purpose",
				describe(d.Request), d.AllowedAt.UTC().Format(time.RFC3339), orEmpty(d.Allowed))
			if d.RevokedBy != "" {
				w += " (" + d.RevokedBy + ")"
			}
			ws = append(ws, w)
		}
	}
	return ws
}

// subjectWarnings says what is dangerous about whom a binding names.
func subjectWarnings(subject string, ds []Denial) []string {
	switch {
	case subject == "system:anonymous":
		return []string{"UNAUTHENTICATED: binds system:anonymous: anyone who can reach the API server gets these permissions"}
	case strings.HasPrefix(subject, "system:") && !strings.HasPrefix(subject, saPrefix):
		return []string{fmt.Sprintf("SYSTEM: binds %s, a Kubernetes system identity: its missing permissions usually mean a misconfiguration, not missing RBAC", subject)}
	}
	for _, d := range ds {
		if slices.Contains(d.Groups, "system:unauthenticated") {
			return []string{fmt.Sprintf("UNAUTHENTICATED: %s made these requests without credentials (group system:unauthenticated)", subject)}
		}
	}
	return nil
}

func hasWildcard(r Rule) bool {
	for _, list := range [][]string{r.APIGroups, r.Resources, r.ResourceNames, r.NonResourceURLs, r.Verbs} {
		for _, s := range list {
			if strings.Contains(s, "*") {
				return true
			}
		}
	}
	return false
}

func ruleTarget(r Rule) string {
	if len(r.NonResourceURLs) > 0 {
		return strings.Join(r.NonResourceURLs, ",")
	}
	var rs []string
	for _, res := range r.Resources {
		if g := r.APIGroups[0]; g != "" {
			base, sub, ok := strings.Cut(res, "/")
			res = base + "." + g
			if ok {
				res += "/" + sub
			}
		}
		rs = append(rs, res)
	}
	s := strings.Join(rs, ",")
	if len(r.ResourceNames) > 0 {
		s += " " + strings.Join(r.ResourceNames, ",")
	}
	return s
}

package policy

import (
	"slices"
	"strings"

	auditinternal "k8s.io/apiserver/pkg/apis/audit"
)

// covers reports whether rule a matches every request rule b matches, by
// the matching semantics of k8s.io/apiserver/pkg/audit/policy (ruleMatches):
// users, groups and verbs are lists to be in; a rule with namespaces or
// resources matches resource requests only, one with nonResourceURLs
// non-resource requests only, one with neither every request. It errs on
// the side of "no": a false "yes" would call a working rule dead.
func covers(a, b *auditinternal.PolicyRule) bool {
	if !within(a.Users, b.Users) || !within(a.Verbs, b.Verbs) {
		return false
	}
	// Groups: b's request has one of b's groups; a needs one of its own.
	if len(a.UserGroups) > 0 && (len(b.UserGroups) == 0 || !subset(b.UserGroups, a.UserGroups)) {
		return false
	}
	aRes := len(a.Namespaces) > 0 || len(a.Resources) > 0
	bRes := len(b.Namespaces) > 0 || len(b.Resources) > 0
	switch {
	case aRes:
		if !bRes {
			return false
		}
		if !within(a.Namespaces, b.Namespaces) {
			return false
		}
		if len(a.Resources) == 0 {
			return true
		}
		if len(b.Resources) == 0 {
			return false
		}
		for _, gb := range b.Resources {
			if !slices.ContainsFunc(a.Resources, func(ga auditinternal.GroupResources) bool { return groupCovers(ga, gb) }) {
				return false
			}
		}
		return true
	case len(a.NonResourceURLs) > 0:
		if bRes || len(b.NonResourceURLs) == 0 {
			return false
		}
		for _, ub := range b.NonResourceURLs {
			if !slices.ContainsFunc(a.NonResourceURLs, func(ua string) bool { return pathCovers(ua, ub) }) {
				return false
			}
		}
		return true
	}
	return true
}

// within: a list condition a (empty: anything) allows every value b allows.
func within(a, b []string) bool {
	if len(a) == 0 {
		return true
	}
	return len(b) > 0 && subset(b, a)
}

func subset(small, big []string) bool {
	for _, s := range small {
		if !slices.Contains(big, s) {
			return false
		}
	}
	return true
}

func groupCovers(a, b auditinternal.GroupResources) bool {
	if a.Group != "*" && a.Group != b.Group {
		return false
	}
	if !within(a.ResourceNames, b.ResourceNames) {
		return false
	}
	if len(a.Resources) == 0 {
		return true
	}
	if len(b.Resources) == 0 {
		return false
	}
	for _, rb := range b.Resources {
		if !slices.ContainsFunc(a.Resources, func(ra string) bool { return resourceCovers(ra, rb) }) {
			return false
		}
	}
	return true
}

// resourceCovers: pattern a matches every resource pattern b matches.
func resourceCovers(a, b string) bool {
	if a == "*" || a == b {
		return true
	}
	if base, ok := strings.CutSuffix(a, "/*"); ok {
		// "pods/*" matches pods and all its subresources.
		bb, _, _ := strings.Cut(b, "/")
		return bb == base && !strings.HasPrefix(b, "*")
	}
	if sub, ok := strings.CutPrefix(a, "*/"); ok {
		_, bs, found := strings.Cut(b, "/")
		return found && bs == sub
	}
	return false
}

// pathCovers: non-resource URL pattern a matches every path pattern b matches.
func pathCovers(a, b string) bool {
	if a == "*" || a == b {
		return true
	}
	if prefix, ok := strings.CutSuffix(a, "*"); ok {
		return strings.HasPrefix(strings.TrimSuffix(b, "*"), prefix) || strings.HasPrefix(b, prefix)
	}
	return false
}

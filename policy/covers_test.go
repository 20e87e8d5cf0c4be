package policy

import (
	"testing"

	auditinternal "k8s.io/apiserver/pkg/apis/audit"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

func gr(group string, res ...string) auditinternal.GroupResources {
	return auditinternal.GroupResources{Group: group, Resources: res}
}

func TestCovers(t *testing.T) {
	type R = auditinternal.PolicyRule
	tests := []struct {
		name string
		a, b R
		want bool
	}{
		{"catch-all covers anything", R{}, R{Users: []string{"x"}, NonResourceURLs: []string{"/a"}}, true},
		{"nothing covers a catch-all but a catch-all", R{Verbs: []string{"get"}}, R{}, false},
		{"verbs superset", R{Verbs: []string{"get", "list"}}, R{Verbs: []string{"get"}}, true},
		{"verbs not superset", R{Verbs: []string{"get"}}, R{Verbs: []string{"get", "list"}}, false},
		{"users restricted vs open", R{Users: []string{"a"}}, R{}, false},
		{"groups: b's groups all in a's", R{UserGroups: []string{"dev", "qa"}}, R{UserGroups: []string{"dev"}}, true},
		{"groups: b has a group a lacks", R{UserGroups: []string{"dev"}}, R{UserGroups: []string{"dev", "ops"}}, false},
		{"resource rule vs url rule", R{Resources: []auditinternal.GroupResources{gr("")}}, R{NonResourceURLs: []string{"/x"}}, false},
		{"namespaces superset", R{Namespaces: []string{"a", "b"}}, R{Namespaces: []string{"a"}, Resources: []auditinternal.GroupResources{gr("", "pods")}}, true},
		{"namespaces vs all namespaces", R{Namespaces: []string{"a"}}, R{Resources: []auditinternal.GroupResources{gr("", "pods")}}, false},
		{"group star", R{Resources: []auditinternal.GroupResources{gr("*")}}, R{Resources: []auditinternal.GroupResources{gr("apps", "deployments")}}, true},
		{"other group", R{Resources: []auditinternal.GroupResources{gr("")}}, R{Resources: []auditinternal.GroupResources{gr("apps")}}, false},
		{"resource star", R{Resources: []auditinternal.GroupResources{gr("", "*")}}, R{Resources: []auditinternal.GroupResources{gr("", "pods/log")}}, true},
		{"pods/* covers pods and pods/log", R{Resources: []auditinternal.GroupResources{gr("", "pods/*")}}, R{Resources: []auditinternal.GroupResources{gr("", "pods", "pods/log")}}, true},
		{"*/status covers pods/status", R{Resources: []auditinternal.GroupResources{gr("", "*/status")}}, R{Resources: []auditinternal.GroupResources{gr("", "pods/status")}}, true},
		{"*/status does not cover pods", R{Resources: []auditinternal.GroupResources{gr("", "*/status")}}, R{Resources: []auditinternal.GroupResources{gr("", "pods")}}, false},
		{"resourceNames narrow a", R{Resources: []auditinternal.GroupResources{{Group: "", Resources: []string{"pods"}, ResourceNames: []string{"x"}}}}, R{Resources: []auditinternal.GroupResources{gr("", "pods")}}, false},
		{"url prefix", R{NonResourceURLs: []string{"/healthz*"}}, R{NonResourceURLs: []string{"/healthz/etcd", "/healthz*"}}, true},
		{"url shorter prefix in b", R{NonResourceURLs: []string{"/healthz*"}}, R{NonResourceURLs: []string{"/health*"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := covers(&tt.a, &tt.b); got != tt.want {
				t.Errorf("covers = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCoversAgreesWithEvaluator: whenever covers says yes, the API
// server's evaluator, given a policy [a, b], never picks b for probes that
// b matches.
func TestCoversAgreesWithEvaluator(t *testing.T) {
	type R = auditinternal.PolicyRule
	rules := []R{
		{}, {Verbs: []string{"get"}}, {Users: []string{"alice"}}, {UserGroups: []string{"dev"}},
		{Namespaces: []string{"kube-system"}}, {Resources: []auditinternal.GroupResources{gr("", "pods")}},
		{Resources: []auditinternal.GroupResources{gr("", "pods/*")}}, {Resources: []auditinternal.GroupResources{gr("", "*/log")}},
		{Resources: []auditinternal.GroupResources{gr("*")}}, {NonResourceURLs: []string{"/healthz*"}}, {NonResourceURLs: []string{"/healthz"}},
	}
	var probes []authorizer.AttributesRecord
	for _, u := range []*user.DefaultInfo{{Name: "alice"}, {Name: "bob", Groups: []string{"dev"}}} {
		for _, v := range []string{"get", "list"} {
			for _, res := range [][2]string{{"pods", ""}, {"pods", "log"}, {"nodes", ""}} {
				for _, ns := range []string{"", "kube-system"} {
					probes = append(probes, authorizer.AttributesRecord{User: u, Verb: v, Resource: res[0], Subresource: res[1], Namespace: ns, ResourceRequest: true})
				}
			}
			for _, p := range []string{"/healthz", "/healthz/etcd", "/api"} {
				probes = append(probes, authorizer.AttributesRecord{User: u, Verb: v, Path: p})
			}
		}
	}
	for i := range rules {
		for j := range rules {
			a, b := rules[i], rules[j]
			a.Level, b.Level = auditinternal.LevelMetadata, auditinternal.LevelRequest
			if !covers(&a, &b) {
				continue
			}
			ev := NewEvaluator(&auditinternal.Policy{Rules: []auditinternal.PolicyRule{a, b}})
			for _, p := range probes {
				if d := ev.Evaluate(p); d.Rule == 1 {
					t.Errorf("covers(%d, %d) but the evaluator picks rule %d for %+v", i, j, j, p)
				}
			}
		}
	}
}

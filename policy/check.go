package policy

import (
	"fmt"
	"slices"
	"strings"

	auditinternal "k8s.io/apiserver/pkg/apis/audit"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kaudit/kaudit/audit"
)

// Finding kinds, in the order Check reports them.
const (
	KindInvalid         = "invalid"          // the API server refuses the policy
	KindStrict          = "strict-decoding"  // a field the API server ignores (lenient fallback)
	KindShadowed        = "shadowed"         // an earlier rule matches everything this rule matches
	KindSensitiveBody   = "sensitive-body"   // bodies of secrets, tokens or configmaps are logged
	KindNoCatchAll      = "no-catch-all"     // requests no rule matches are not logged at all
	KindRequestReceived = "request-received" // RequestReceived not omitted: two events per request
	KindWebhookUnsafe   = "webhook-unsafe"   // bodies of every resource: batches the webhook backend cannot carry
)

// Finding is one problem with a policy.
type Finding struct {
	Kind    string `json:"kind"`
	Line    int    `json:"line"` // 0 when unknown
	Rule    int    `json:"rule"` // rule index (rules[N]); -1 for the policy as a whole
	Message string `json:"message"`
}

func (f Finding) String() string {
	where := "-"
	if f.Line > 0 {
		where = fmt.Sprint(f.Line)
	}
	return fmt.Sprintf("%s: %s: %s", where, f.Kind, f.Message)
}

// Sensitive is a resource whose request or response bodies hold secrets.
type Sensitive struct{ Group, Resource, Subresource string }

// SensitiveResources are never to be logged above Metadata.
var SensitiveResources = []Sensitive{
	{"", "secrets", ""},
	{"", "configmaps", ""},
	{"", "serviceaccounts", "token"},
	{"authentication.k8s.io", "tokenreviews", ""},
}

func (s Sensitive) String() string {
	r := s.Resource
	if s.Subresource != "" {
		r += "/" + s.Subresource
	}
	if s.Group != "" {
		r += "." + s.Group
	}
	return r
}

// CheckBytes loads a policy as the API server would and checks it. A policy
// the server refuses gives one KindInvalid finding.
func CheckBytes(data []byte) []Finding {
	p, err := Load(data)
	if err != nil {
		le, _ := err.(*LoadError)
		line := 0
		if le != nil {
			line = le.Line
		}
		return []Finding{{Kind: KindInvalid, Line: line, Rule: -1, Message: "kube-apiserver refuses this policy: " + err.Error()}}
	}
	return Check(p)
}

// Check lists what is probably wrong with a loaded policy.
func Check(p *Policy) []Finding {
	var out []Finding
	for _, fp := range p.StrictFields {
		msg := fp.Kind + " " + fmt.Sprintf("%q", fp.Path) + ": kube-apiserver warns \"strict decoding error\", falls back to lenient decoding and ignores it"
		if strings.HasSuffix(fp.Path, "].verbs") && strings.Contains(fp.Path, ".resources[") {
			msg += " (verbs belongs at the rule level: as written the rule applies to every verb)"
		}
		out = append(out, Finding{Kind: KindStrict, Line: fp.Line, Rule: ruleOfPath(fp.Path), Message: msg})
	}
	rules := p.Rules
	for j := range rules {
		for i := 0; i < j; i++ {
			if covers(&rules[i], &rules[j]) {
				out = append(out, Finding{Kind: KindShadowed, Line: p.RuleLine(j), Rule: j,
					Message: fmt.Sprintf("never applies: rule %d (line %d) matches every request this rule matches", i, p.RuleLine(i))})
				break
			}
		}
	}
	ev := NewEvaluator(p.Policy)
	for _, s := range SensitiveResources {
		reported := map[int]bool{}
		for _, a := range probes(rules, s) {
			d := ev.Evaluate(a)
			if d.Rule >= 0 && d.Level >= audit.LevelRequest && !reported[d.Rule] {
				reported[d.Rule] = true
				out = append(out, Finding{Kind: KindSensitiveBody, Line: p.RuleLine(d.Rule), Rule: d.Rule,
					Message: fmt.Sprintf("logs %s bodies at %s (e.g. %s %s): use Metadata for them", s, d.Level, a.Verb, s)})
			}
		}
	}
	if !slices.ContainsFunc(rules, func(r auditinternal.PolicyRule) bool { return catchAll(&r) }) {
		out = append(out, Finding{Kind: KindNoCatchAll, Line: p.RuleLine(len(rules) - 1), Rule: -1,
			Message: "no rule matches every request: requests no rule matches are not logged at all; end with a Metadata rule without conditions"})
	}
	for i := range rules {
		r := &rules[i]
		if r.Level == auditinternal.LevelNone {
			continue
		}
		if !slices.Contains(r.OmitStages, auditinternal.StageRequestReceived) && !slices.Contains(p.OmitStages, auditinternal.StageRequestReceived) {
			out = append(out, Finding{Kind: KindRequestReceived, Line: p.RuleLine(i), Rule: i,
				Message: "RequestReceived is not omitted: every request this rule matches is written twice or more; add omitStages: [RequestReceived]"})
		}
	}
	for i := range rules {
		r := &rules[i]
		if (r.Level == auditinternal.LevelRequest || r.Level == auditinternal.LevelRequestResponse) && allResources(r) {
			out = append(out, Finding{Kind: KindWebhookUnsafe, Line: p.RuleLine(i), Rule: i,
				Message: fmt.Sprintf("level %s for every resource: list responses and large objects make events of megabytes, which the webhook backend sends in batches that receivers reject (and --audit-webhook-truncate-enabled cuts back to Metadata); restrict the resources or use Metadata", r.Level)})
		}
	}
	return out
}

func ruleOfPath(path string) int {
	var n int
	if _, err := fmt.Sscanf(path, "rules[%d]", &n); err == nil {
		return n
	}
	return -1
}

// probes are requests to s that each rule could match: for every rule
// that names users, groups, verbs or namespaces, one request per verb as
// the first of them, so the real evaluator decides which rule wins.
func probes(rules []auditinternal.PolicyRule, s Sensitive) []authorizer.AttributesRecord {
	var out []authorizer.AttributesRecord
	add := func(u user.Info, verb, ns string) {
		out = append(out, authorizer.AttributesRecord{User: u, Verb: verb, Namespace: ns, ResourceRequest: true,
			APIGroup: s.Group, APIVersion: "v1", Resource: s.Resource, Subresource: s.Subresource, Name: "x"})
	}
	allVerbs := []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	add(&user.DefaultInfo{Name: "probe", Groups: []string{"system:authenticated"}}, "get", "default")
	for _, r := range rules {
		u := &user.DefaultInfo{Name: "probe", Groups: []string{"system:authenticated"}}
		if len(r.Users) > 0 {
			u.Name = r.Users[0]
		}
		if len(r.UserGroups) > 0 {
			u.Groups = append(u.Groups, r.UserGroups[0])
		}
		ns := "default"
		if len(r.Namespaces) > 0 {
			ns = r.Namespaces[0]
		}
		verbs := r.Verbs
		if len(verbs) == 0 {
			verbs = allVerbs
		}
		for _, v := range verbs {
			add(u, v, ns)
		}
	}
	return out
}

// catchAll: a rule without conditions matches every request.
func catchAll(r *auditinternal.PolicyRule) bool {
	return len(r.Users) == 0 && len(r.UserGroups) == 0 && len(r.Verbs) == 0 &&
		len(r.Namespaces) == 0 && len(r.Resources) == 0 && len(r.NonResourceURLs) == 0
}

// allResources: the rule matches requests to every resource (whatever its
// other conditions).
func allResources(r *auditinternal.PolicyRule) bool {
	if len(r.Resources) == 0 {
		return len(r.NonResourceURLs) == 0 || len(r.Namespaces) > 0
	}
	for _, gr := range r.Resources {
		if gr.Group == "*" && len(gr.ResourceNames) == 0 && (len(gr.Resources) == 0 || slices.Contains(gr.Resources, "*")) {
			return true
		}
	}
	return false
}

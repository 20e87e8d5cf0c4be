package policy

import (
	"strings"

	auditinternal "k8s.io/apiserver/pkg/apis/audit"
	auditpkg "k8s.io/apiserver/pkg/audit"
	auditpolicy "k8s.io/apiserver/pkg/audit/policy"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kaudit/kaudit/audit"
)

// Attributes rebuilds the authorizer attributes the API server evaluated
// its audit policy on, from what the audit event recorded: the
// authenticated user (the audit filter runs before impersonation), verb,
// the object reference, and for non-resource requests the path of the
// request URI. A request that failed authentication has no user.
func Attributes(e *audit.Event) authorizer.AttributesRecord {
	a := authorizer.AttributesRecord{Verb: e.Verb}
	if e.User.Name != "" || len(e.User.Groups) > 0 {
		a.User = &user.DefaultInfo{Name: e.User.Name, Groups: e.User.Groups}
	}
	o := e.Object
	if o.Resource != "" {
		a.ResourceRequest = true
		a.APIGroup, a.APIVersion = o.APIGroup, o.APIVersion
		a.Resource, a.Subresource = o.Resource, o.Subresource
		a.Namespace, a.Name = o.Namespace, o.Name
	}
	path, _, _ := strings.Cut(e.RequestURI, "?")
	a.Path = path
	return a
}

// Evaluator is the API server's policy evaluator plus which rule decided:
// the evaluator itself only says what level and stages it chose.
type Evaluator struct {
	full  auditpkg.PolicyRuleEvaluator
	rules []auditpkg.PolicyRuleEvaluator // rules[i] matches exactly what rule i matches
}

// Decision is what the policy makes of one request.
type Decision struct {
	Rule       int // index of the first matching rule; -1: none (the default, level None)
	Level      audit.Level
	OmitStages []audit.Stage
}

// Omits reports whether the decision leaves stage s out of the log.
func (d Decision) Omits(s audit.Stage) bool {
	for _, o := range d.OmitStages {
		if o == s {
			return true
		}
	}
	return false
}

// NewEvaluator wraps policy.NewPolicyRuleEvaluator. To tell which rule
// matched it also builds, per rule, an evaluator over a one-rule policy
// holding that rule at level Metadata: that evaluator returns a level
// other than None exactly when the rule matches.
func NewEvaluator(p *auditinternal.Policy) *Evaluator {
	cp := p.DeepCopy() // NewPolicyRuleEvaluator rewrites rules' omitStages
	ev := &Evaluator{full: auditpolicy.NewPolicyRuleEvaluator(cp)}
	for _, r := range p.Rules {
		one := r.DeepCopy()
		one.Level = auditinternal.LevelMetadata
		ev.rules = append(ev.rules, auditpolicy.NewPolicyRuleEvaluator(&auditinternal.Policy{Rules: []auditinternal.PolicyRule{*one}}))
	}
	return ev
}

// Evaluate decides a request with the real evaluator.
func (ev *Evaluator) Evaluate(a authorizer.Attributes) Decision {
	cfg := ev.full.EvaluatePolicyRule(a)
	d := Decision{Rule: -1, Level: audit.ParseLevel(string(cfg.Level))}
	for _, s := range cfg.OmitStages {
		d.OmitStages = append(d.OmitStages, audit.ParseStage(string(s)))
	}
	for i, r := range ev.rules {
		if r.EvaluatePolicyRule(a).Level != auditinternal.LevelNone {
			d.Rule = i
			break
		}
	}
	return d
}

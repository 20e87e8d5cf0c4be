package policy

import (
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/kaudit/kaudit/audit"
)

func TestSuggestRealLog(t *testing.T) {
	sim, _ := replay(t, "testdata/realcluster/allstages-audit.log.gz")
	sug, err := sim.Suggest()
	if err != nil {
		t.Fatal(err)
	}
	if len(sug.Findings) != 0 {
		t.Errorf("policy check on the suggestion: %v", sug.Findings)
	}
	if sug.Suggested.Events >= sug.Current.Events || sug.Suggested.Bytes >= sug.Current.Bytes {
		t.Errorf("suggested %v, current %v: want less", sug.Suggested, sug.Current)
	}
	p, err := Load([]byte(sug.YAML))
	if err != nil {
		t.Fatal(err)
	}
	// Writes keep their level (lease renewals of system components aside:
	// they are dropped on purpose), denials stay logged, secrets never above Metadata.
	res := sim.Run(p)
	ev := NewEvaluator(p.Policy)
	for _, r := range sim.order {
		e := &r.ev
		d := ev.Evaluate(Attributes(e))
		lease := e.Object.Resource == "leases" && strings.HasPrefix(e.User.Name, "system:")
		if slices.Contains(writeVerbs, e.Verb) && e.Object.Resource != "" && !sensitive(e.Object) && !lease && d.Level != r.level {
			t.Errorf("%s %s %s recorded at %s, suggested %s", e.User.Name, e.Verb, ResourceOf(e), r.level, d.Level)
		}
		if e.Denied() && d.Level < audit.LevelMetadata {
			t.Errorf("denial %s %s %s dropped", e.User.Name, e.Verb, ResourceOf(e))
		}
		if sensitive(e.Object) && d.Level > audit.LevelMetadata {
			t.Errorf("%s %s at %s", e.Verb, ResourceOf(e), d.Level)
		}
	}
	if res.Total != sug.Suggested {
		t.Errorf("simulated %v, suggestion says %v", res.Total, sug.Suggested)
	}
	if !strings.HasSuffix(sug.YAML, "  - level: Metadata\n") {
		t.Errorf("suggestion does not end with a Metadata catch-all:\n%s", sug.YAML)
	}
	golden(t, "suggest-allstages.yaml", []byte(sug.YAML))
}

func TestSuggestSystemNoise(t *testing.T) {
	sim := NewSimulator()
	add := func(id, user string, groups []string, verb, group, res, sub, ns string, code int32) {
		e := audit.Event{AuditID: id, Stage: audit.StageResponseComplete, Level: audit.LevelRequestResponse, Verb: verb,
			User: audit.UserInfo{Name: user, Groups: groups}, Object: audit.ObjectRef{APIGroup: group, Resource: res, Subresource: sub, Namespace: ns, APIVersion: "v1"},
			Code: code, Raw: []byte(`{"level":"RequestResponse"}`)}
		if code == 403 {
			e.Decision = "forbid"
		}
		sim.Add(&e)
	}
	n := 0
	id := func() string { n++; return string(rune('a'+n/26)) + string(rune('a'+n%26)) }
	for range 5 {
		add(id(), "system:kube-proxy", nil, "watch", "", "endpoints", "", "", 200)
		add(id(), "system:node:n1", []string{"system:nodes"}, "get", "", "nodes", "", "", 200)
		add(id(), "system:node:n2", []string{"system:nodes"}, "update", "coordination.k8s.io", "leases", "", "kube-node-lease", 200)
		add(id(), "system:node:n2", []string{"system:nodes"}, "list", "", "services", "", "", 200)
		add(id(), "system:kube-scheduler", nil, "update", "coordination.k8s.io", "leases", "", "kube-system", 200)
		add(id(), "system:kube-controller-manager", nil, "list", "", "pods", "", "", 200)
		add(id(), "system:serviceaccount:kube-system:x", nil, "get", "", "pods", "", "", 403)
		add(id(), "alice", nil, "create", "apps", "deployments", "", "d", 201)
		add(id(), "alice", nil, "get", "", "secrets", "", "d", 200)
	}
	sug, err := sim.Suggest()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`users: ["system:kube-proxy"]`, `userGroups: ["system:nodes"]`, `users: ["system:kube-scheduler"]`,
		`users: ["system:kube-controller-manager"]`, "userGroups: [\"system:nodes\"]\n    verbs: [\"get\", \"update\"]",
		"userGroups: [\"system:nodes\"]\n    verbs: [\"get\", \"list\", \"watch\"]", `- group: "apps"` + "\n        resources: [\"deployments\"]",
	} {
		if !strings.Contains(sug.YAML, want) {
			t.Errorf("suggestion lacks %q:\n%s", want, sug.YAML)
		}
	}
	if strings.Contains(sug.YAML, "kube-system:x") || strings.Contains(sug.YAML, "system:node:") {
		t.Errorf("a user with denied reads is dropped:\n%s", sug.YAML)
	}
	if len(sug.Findings) != 0 {
		t.Errorf("findings: %v", sug.Findings)
	}
}

// TestQuote: names from events reach the YAML escaped, and load back unchanged.
func TestQuote(t *testing.T) {
	for _, name := range []string{"alice", "a\"b\\c", "esc\x1b[2J", "csi\u009b2J", "del\x7f", "rtl\u202eevil", "emoji😀", "astral\U000e0001"} {
		q := quote(name)
		for _, r := range q {
			if !unicode.IsPrint(r) {
				t.Errorf("quote(%q) = %q holds %U", name, q, r)
			}
		}
		src := "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  users: [" + q + "]\n- level: Metadata\n"
		p, err := Load([]byte(src))
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		if got := p.Rules[0].Users[0]; got != name {
			t.Errorf("quote(%q) = %s loads as %q", name, q, got)
		}
	}
}

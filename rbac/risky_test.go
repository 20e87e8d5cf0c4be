package rbac

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestRiskyWithheld: by default every grant the warnings name is withheld —
// role and binding together — and written commented out; the rest is
// emitted as before. --include-risky emits them all.
func TestRiskyWithheld(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	den := func(subject, verb, resource, ns string) Denial {
		return Denial{Request: Request{Subject: subject, Verb: verb, Resource: resource, Namespace: ns}, Kind: KindRBAC, Count: 1, First: at, Last: at}
	}
	revoked := den("bob", "list", "pods", "dev-1")
	revoked.AllowedAt, revoked.Allowed = at.Add(-time.Minute), "RBAC: allowed"
	risky := map[string]Denial{
		"anonymous":    den("system:anonymous", "list", "secrets", "a"),
		"secrets read": den("alice", "get", "secrets", "team-1"),
		"cluster-wide": den("carol", "list", "pods", ""),
		"revoked":      revoked,
		"escalation":   {Request: Request{Subject: "dave", Verb: "bind", APIGroup: "rbac.authorization.k8s.io", Resource: "clusterroles", Name: "admin"}, Kind: KindRBAC, Count: 1, First: at, Last: at},
	}
	safe := den("erin", "get", "configmaps", "a")
	for name, d := range risky {
		t.Run(name, func(t *testing.T) {
			s := Suggest([]Denial{d, safe}, Options{})
			if len(s.Objects) != 2 || len(s.Withheld) != 2 || len(s.Covered) != 1 {
				t.Fatalf("objects %d, withheld %d, covered %d; want 2, 2, 1", len(s.Objects), len(s.Withheld), len(s.Covered))
			}
			for _, o := range s.Objects {
				if len(o.Warnings) > 0 || o.Subject.Name == d.Subject {
					t.Errorf("risky object emitted: %s %v", o.Ref(), o.Warnings)
				}
			}
			var y bytes.Buffer
			if err := s.WriteYAML(&y); err != nil {
				t.Fatal(err)
			}
			live, withheld, _ := strings.Cut(y.String(), "# WITHHELD (2 objects)")
			if withheld == "" {
				t.Fatalf("nothing withheld:\n%s", y.String())
			}
			for _, line := range strings.Split(live, "\n") {
				if !strings.HasPrefix(line, "#") && strings.Contains(line, d.Subject) {
					t.Errorf("risky grant live: %q", line)
				}
			}
			_, withheld, _ = strings.Cut(withheld, "\n")
			for _, line := range strings.Split(strings.TrimSpace(withheld), "\n") {
				if !strings.HasPrefix(line, "#") {
					t.Errorf("withheld line not commented out: %q", line)
				}
			}
			if !strings.Contains(withheld, "# # WARNING: ") {
				t.Errorf("no reason above the withheld object:\n%s", withheld)
			}
			if notes := s.WithheldNotes(); len(notes) != 2 || !strings.Contains(notes[0], "--include-risky") {
				t.Errorf("notes %q", notes)
			}
			var j bytes.Buffer
			if err := s.WriteJSON(&j); err != nil || strings.Contains(j.String(), d.Subject) {
				t.Errorf("JSON holds the risky grant: %v\n%s", err, j.String())
			}
			all := Suggest([]Denial{d, safe}, Options{IncludeRisky: true})
			if len(all.Objects) != 4 || len(all.Withheld) != 0 || len(all.Covered) != 2 {
				t.Errorf("--include-risky: objects %d, withheld %d, covered %d", len(all.Objects), len(all.Withheld), len(all.Covered))
			}
		})
	}
}

// A name holding a bidi override, a zero-width space or a line separator
// is shown escaped in the YAML, and reads back as the same name.
func TestYAMLNamesReviewable(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for _, name := range []string{"eve\u202etxt", "x\u200by", "a\u2028b", "c\u0085d\u009b"} {
		s := Suggest([]Denial{{Request: Request{Subject: name, Verb: "get", Resource: "configmaps", Namespace: "a", Name: "cfg"}, Kind: KindRBAC, Count: 1, First: at, Last: at}}, Options{})
		var y bytes.Buffer
		if err := s.WriteYAML(&y); err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(y.String(), "\u202e\u200b\u2028\u0085\u009b") {
			t.Errorf("%q: raw in the YAML:\n%s", name, y.String())
		}
		objs := readBack(t, y.Bytes())
		if len(objs) != 2 || !allows(objs, Request{Subject: name, Verb: "get", Resource: "configmaps", Namespace: "a", Name: "cfg"}) {
			t.Errorf("%q: the YAML does not read back to a grant for that name:\n%s", name, y.String())
		}
	}
}

package rbac

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"

	"github.com/kaudit/kaudit/internal/goldenfile"
)

const public = "../testdata/public/"

// fixtures are the logs with 403s: audit2rbac's demo (impersonated
// denials, no decision annotations), Panther's EKS rule tests (anonymous
// non-resource denials, admission 403s), and a run of the real API server's
// workload (RBAC, Node, impersonation and admission refusals; a revoked
// binding). Falco's trace files have no denials: they must suggest nothing.
var fixtures = map[string]string{
	"audit2rbac":  public + "audit2rbac-demo-v1.jsonl",
	"eks":         public + "panther-eks-audit.jsonl",
	"falco":       public + "falco-trace-files-k8s_audit.jsonl",
	"realcluster": "../testdata/realcluster/rbac-workload.jsonl",
}

func load(t testing.TB, paths ...string) *Analysis {
	t.Helper()
	st := store.New()
	r := &ingest.Replay{Paths: paths, OnProblem: func(ingest.Problem) {}}
	if _, err := r.Run(context.Background(), func(b ingest.Batch) error {
		st.Append(b.Events, b.Raw, b.Offsets)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return Analyze(st, st.Requests())
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	goldenfile.Check(t, path, got)
}

func TestGolden(t *testing.T) {
	for name, path := range fixtures {
		for _, opt := range []Options{{IncludeRisky: true}, {NoResourceNames: true, IncludeRisky: true}} {
			suffix := ""
			if opt.NoResourceNames {
				suffix = "-no-names"
			}
			t.Run(name+suffix, func(t *testing.T) {
				a := load(t, path)
				s := Suggest(a.Denials, opt)
				var y, j, tab bytes.Buffer
				if err := s.WriteYAML(&y); err != nil {
					t.Fatal(err)
				}
				if err := s.WriteJSON(&j); err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join("testdata", "golden", name+suffix+".yaml"), y.Bytes())
				golden(t, filepath.Join("testdata", "golden", name+suffix+".json"), j.Bytes())
				if opt.NoResourceNames {
					return
				}
				if err := views.WriteText(&tab, a.DenialsTable()); err != nil {
					t.Fatal(err)
				}
				tab.WriteString("\n")
				if err := views.WriteText(&tab, a.GrantsTable()); err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join("testdata", "golden", name+"-denials.table"), tab.Bytes())
			})
		}
	}
}

// TestFixtureFigures pins what each fixture holds, so a golden refresh
// cannot silently lose denials.
func TestFixtureFigures(t *testing.T) {
	for _, tc := range []struct {
		name             string
		denials          int
		kinds            map[Kind]int
		covered, objects int
		permissions      int
	}{
		{"audit2rbac", 9, map[Kind]int{KindRBAC: 9}, 7, 10, 7},
		{"falco", 0, map[Kind]int{}, 0, 0, 0},
		{"realcluster", 28, map[Kind]int{KindRBAC: 23, KindNode: 1, KindImpersonation: 2, KindAdmission: 2}, 23, 18, 23},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := load(t, fixtures[tc.name])
			kinds := map[Kind]int{}
			for _, d := range a.Denials {
				kinds[d.Kind]++
			}
			s := Suggest(a.Denials, Options{IncludeRisky: true})
			got := fmt.Sprint(len(a.Denials), kinds, len(s.Covered), len(s.Objects), s.Permissions())
			want := fmt.Sprint(tc.denials, tc.kinds, tc.covered, tc.objects, tc.permissions)
			if got != want {
				t.Errorf("denials kinds covered objects permissions = %s, want %s", got, want)
			}
		})
	}
}

// expand lists what a rule grants, one "verb group resource name" per
// permission ("" name: every object).
func expand(ns string, r Rule) []string {
	var out []string
	for _, v := range r.Verbs {
		for _, u := range r.NonResourceURLs {
			out = append(out, v+" url "+u)
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				names := r.ResourceNames
				if len(names) == 0 {
					names = []string{""}
				}
				for _, n := range names {
					out = append(out, strings.Join([]string{v, g, res, ns, n}, " "))
				}
			}
		}
	}
	return out
}

// TestRulesAreExact: over random denials, the suggested rules grant every
// denied request and nothing else (up to a named request being covered by
// a grant on every name of the same resource and verb).
func TestRulesAreExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	for iter := range 300 {
		var ds []Denial
		for range 1 + rng.IntN(12) {
			r := Request{Subject: pick("alice", "bob", "system:serviceaccount:ci:bot"), Verb: pick("get", "list", "delete", "patch", "watch", "create")}
			if rng.IntN(8) == 0 {
				r.Path, r.Verb = pick("/metrics", "/logs", "/healthz"), pick("get", "post")
			} else {
				r.APIGroup = pick("", "apps")
				r.Resource = pick("pods", "configmaps", "deployments")
				r.Subresource = pick("", "", "", "scale", "log")
				r.Namespace = pick("", "a", "b")
				r.Name = pick("", "", "x", "y")
			}
			ds = append(ds, Denial{Request: r, Kind: KindRBAC})
		}
		s := Suggest(ds, Options{IncludeRisky: true})
		granted := map[string]bool{}
		for _, o := range s.Objects {
			for _, r := range o.Rules {
				for _, p := range expand(o.Namespace, r) {
					if granted[o.Name+" "+p] {
						t.Fatalf("iteration %d: %s granted twice", iter, p)
					}
					granted[o.Name+" "+p] = true
				}
			}
		}
		want := map[string]bool{}
		for _, d := range ds {
			ns, name := d.Namespace, d.Name
			if d.Verb == "create" && d.Subresource == "" {
				name = ""
			}
			var p string
			if d.NonResource() {
				p = d.Verb + " url " + d.Path
			} else {
				res := d.Resource
				if d.Subresource != "" {
					res += "/" + d.Subresource
				}
				if name != "" && slices.ContainsFunc(ds, func(e Denial) bool {
					return e.Subject == d.Subject && e.Verb == d.Verb && e.APIGroup == d.APIGroup && e.Resource == d.Resource &&
						e.Subresource == d.Subresource && e.Namespace == d.Namespace && (e.Name == "" || e.Verb == "create" && e.Subresource == "")
				}) {
					name = "" // covered by the grant on every name
				}
				p = strings.Join([]string{d.Verb, d.APIGroup, res, ns, name}, " ")
			}
			want[objectName(d.Subject)+" "+p] = true
		}
		if !mapsEqual(granted, want) {
			t.Fatalf("iteration %d: rules grant\n%v\nwant exactly\n%v", iter, keys(granted), keys(want))
		}
	}
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// TestNeverWildcard: no suggestion over the fixtures contains '*', and a
// request whose fields hold '*' is skipped rather than turned into one.
func TestNeverWildcard(t *testing.T) {
	for name, path := range fixtures {
		a := load(t, path)
		for _, opt := range []Options{{IncludeRisky: true}, {NoResourceNames: true, IncludeRisky: true}} {
			s := Suggest(a.Denials, opt)
			for _, o := range s.Objects {
				for _, r := range o.Rules {
					if hasWildcard(r) {
						t.Errorf("%s: %s has a wildcard rule %+v", name, o.Ref(), r)
					}
				}
			}
		}
	}
	s := Suggest([]Denial{
		{Request: Request{Subject: "eve", Verb: "get", Path: "/api/*"}, Kind: KindRBAC},
		{Request: Request{Subject: "eve", Verb: "get", Resource: "pods", Namespace: "a", Name: "*"}, Kind: KindRBAC},
	}, Options{IncludeRisky: true})
	if len(s.Objects) != 0 || len(s.Skipped) != 2 {
		t.Errorf("requests with '*' gave %d objects and %d skipped, want 0 and 2: %v", len(s.Objects), len(s.Skipped), s.Skipped)
	}
}

func TestWarnings(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	den := func(subject, verb, group, resource, sub, ns, name string) Denial {
		return Denial{Request: Request{Subject: subject, Verb: verb, APIGroup: group, Resource: resource, Subresource: sub, Namespace: ns, Name: name},
			Kind: KindRBAC, Count: 1, First: at, Last: at}
	}
	revoked := den("bob", "list", "", "pods", "", "dev-1", "")
	revoked.AllowedAt, revoked.Allowed = at.Add(-time.Minute), `RBAC: allowed by RoleBinding "bob-pod-reader/dev-1"`
	anonGroup := den("eve", "get", "", "configmaps", "", "a", "")
	anonGroup.Groups = []string{"system:unauthenticated"}
	for _, tc := range []struct {
		name string
		d    Denial
		want string // "" when no warning is expected
	}{
		{"secrets", den("alice", "get", "", "secrets", "", "team-1", "db-creds"), "SENSITIVE: get on secrets db-creds in namespace team-1"},
		{"escalate", den("alice", "escalate", "rbac.authorization.k8s.io", "roles", "", "a", ""), "ESCALATION: escalate on roles.rbac.authorization.k8s.io"},
		{"bind", den("alice", "bind", "rbac.authorization.k8s.io", "clusterroles", "", "", "admin"), "ESCALATION: bind on clusterroles.rbac.authorization.k8s.io admin"},
		{"impersonate", den("alice", "impersonate", "", "users", "", "", "admin"), "ESCALATION: impersonate on users admin"},
		{"nodes/proxy", den("alice", "get", "", "nodes", "proxy", "", "n1"), "SENSITIVE: get on nodes/proxy n1"},
		{"pods/exec", den("alice", "create", "", "pods", "exec", "a", "web"), "SENSITIVE: create on pods/exec web in namespace a"},
		{"serviceaccounts/token", den("alice", "create", "", "serviceaccounts", "token", "a", "default"), "SENSITIVE: create on serviceaccounts/token default in namespace a"},
		{"cluster-admin-like", den("alice", "create", "rbac.authorization.k8s.io", "clusterrolebindings", "", "", ""), "CLUSTER-ADMIN-LIKE: create on clusterrolebindings.rbac.authorization.k8s.io"},
		{"cluster-wide", den("alice", "list", "", "pods", "", "", ""), "CLUSTER-WIDE: list on pods across all namespaces"},
		{"cluster-scoped resource", den("alice", "list", "", "nodes", "", "", ""), ""},
		{"anonymous", den("system:anonymous", "get", "", "", "", "", ""), "UNAUTHENTICATED: binds system:anonymous"},
		{"unauthenticated group", anonGroup, "UNAUTHENTICATED: eve made these requests without credentials"},
		{"system identity", den("system:kube-scheduler", "get", "", "configmaps", "", "a", ""), "SYSTEM: binds system:kube-scheduler"},
		{"revoked", revoked, `REVOKED?: bob list pods in dev-1 was allowed until 2026-11-25T09:59:00Z (RBAC: allowed by RoleBinding "bob-pod-reader/dev-1")`},
		{"plain", den("alice", "get", "", "configmaps", "", "a", "cfg"), ""},
		{"service account", den("system:serviceaccount:ci:bot", "get", "apps", "deployments", "", "a", ""), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.d.Resource == "" && tc.d.Path == "" {
				tc.d.Path = "/metrics"
			}
			s := Suggest([]Denial{tc.d}, Options{IncludeRisky: true})
			var y bytes.Buffer
			if err := s.WriteYAML(&y); err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if len(s.Warnings) != 0 {
					t.Errorf("unexpected warnings %q", s.Warnings)
				}
				return
			}
			if !slices.ContainsFunc(s.Warnings, func(w string) bool { return strings.Contains(w, tc.want) }) {
				t.Errorf("warnings %q lack %q", s.Warnings, tc.want)
			}
			if !strings.Contains(y.String(), "# WARNING: ") || !strings.Contains(y.String(), tc.want) {
				t.Errorf("the YAML does not carry the warning %q:\n%s", tc.want, y.String())
			}
		})
	}
	// A wildcard never comes out of Suggest; the check itself must still work.
	ws := roleWarnings(Object{Kind: "ClusterRole", Rules: []Rule{{APIGroups: []string{""}, Resources: []string{"*"}, Verbs: []string{"get"}}}}, nil)
	if !slices.ContainsFunc(ws, func(w string) bool { return strings.HasPrefix(w, "WILDCARD: ") }) {
		t.Errorf("no wildcard warning in %q", ws)
	}
}

func TestSubjects(t *testing.T) {
	for _, tc := range []struct {
		subject string
		ref     SubjectRef
		name    string
	}{
		{"alice", SubjectRef{Kind: "User", Name: "alice"}, "kaudit:alice"},
		{"system:serviceaccount:ci:ci-bot", SubjectRef{Kind: "ServiceAccount", Name: "ci-bot", Namespace: "ci"}, "kaudit:system:serviceaccount:ci:ci-bot"},
		{"system:serviceaccount:bad", SubjectRef{Kind: "User", Name: "system:serviceaccount:bad"}, "kaudit:system:serviceaccount:bad"},
		{"https://idp.example.com/#alice", SubjectRef{Kind: "User", Name: "https://idp.example.com/#alice"}, "kaudit:https:--idp.example.com-#alice-24fdae70"},
		{"a b", SubjectRef{Kind: "User", Name: "a b"}, "kaudit:a-b-10a3f9f2"},
	} {
		if got := subjectRef(tc.subject); got != tc.ref {
			t.Errorf("subjectRef(%q) = %+v, want %+v", tc.subject, got, tc.ref)
		}
		if got := objectName(tc.subject); got != tc.name {
			t.Errorf("objectName(%q) = %q, want %q", tc.subject, got, tc.name)
		}
	}
}

// TestSkipped: denials RBAC cannot fix are left out, each with its reason.
func TestSkipped(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	fixed := Denial{Request: Request{Subject: "bob", Verb: "list", Resource: "pods", Namespace: "dev"}, Kind: KindRBAC, Last: at, AllowedAt: at.Add(time.Second), Allowed: "RBAC: allowed by RoleBinding"}
	s := Suggest([]Denial{
		{Request: Request{Subject: "system:node:n1", Verb: "list", Resource: "secrets", Namespace: "a"}, Kind: KindNode},
		{Request: Request{Subject: "admin", Verb: "create", Resource: "pods", Namespace: "a"}, Kind: KindAdmission},
		{Request: Request{Subject: "bob", Verb: "list", Resource: "pods", Namespace: "a"}, Kind: KindImpersonation},
		{Request: Request{Subject: "x", Verb: "get", Resource: "pods", Namespace: "a"}, Kind: KindWebhook},
		{Request: Request{Subject: "", Verb: "get", Resource: "pods", Namespace: "a"}, Kind: KindRBAC},
		fixed,
	}, Options{IncludeRisky: true})
	if len(s.Objects) != 0 {
		t.Errorf("suggested %d objects, want none", len(s.Objects))
	}
	for i, want := range []string{"Node authorizer", "admission", "impersonate", "webhook authorizer", "no user", "allowed since 2026-11-25T10:00:01Z"} {
		if i >= len(s.Skipped) || !strings.Contains(s.Skipped[i], want) {
			t.Errorf("skipped %q: want %q at %d", s.Skipped, want, i)
		}
	}
}

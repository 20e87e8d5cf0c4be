package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/internal/goldenfile"
	"github.com/kaudit/kaudit/store"
)

const generated = "testdata/generated.jsonl"

// loadStore appends the audit events of a JSON-lines file to a new store.
func loadStore(t testing.TB, path string) *store.Store {
	t.Helper()
	all, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return storeOf(t, all)
}

func storeOf(t testing.TB, all []byte) *store.Store {
	var evs []audit.Event
	var offs []int64
	for start := 0; start < len(all); {
		end := bytes.IndexByte(all[start:], '\n')
		if end < 0 {
			end = len(all) - start
		}
		line := all[start : start+end]
		k := len(evs)
		var err error
		if evs, err = audit.Decode(line, evs); err != nil {
			t.Fatalf("offset %d: %v", start, err)
		}
		for _, e := range evs[k:] {
			offs = append(offs, int64(start+cap(line)-cap(e.Raw)))
		}
		start += end + 1
	}
	st := store.New()
	st.Append(evs, bytes.NewReader(all), offs)
	return st
}

func TestParseRef(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Ref
		bad  bool
	}{
		{"pods/default/web", Ref{Resource: "pods", Namespace: "default", Name: "web"}, false},
		{"deployments.apps/prod/web", Ref{Group: "apps", Resource: "deployments", Namespace: "prod", Name: "web"}, false},
		{"clusterroles.rbac.authorization.k8s.io/admin", Ref{Group: "rbac.authorization.k8s.io", Resource: "clusterroles", Name: "admin"}, false},
		{"pods", Ref{}, true},
		{"pods//web", Ref{}, true},
		{"/ns/web", Ref{}, true},
		{"a/b/c/d", Ref{}, true},
	} {
		got, err := ParseRef(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && got != tc.want) {
			t.Errorf("ParseRef(%q) = %+v, %v", tc.in, got, err)
		}
		if !tc.bad && got.String() != tc.in {
			t.Errorf("%q round-trips as %q", tc.in, got.String())
		}
	}
}

// label is a step's revision as the tests spell it.
func stepLabel(s Step) string {
	switch {
	case s.Revision != nil:
		return string(s.Revision.Quality)
	case s.Ends:
		return "gone"
	}
	return "-"
}

func TestRebuildGenerated(t *testing.T) {
	st := loadStore(t, generated)
	for _, tc := range []struct {
		ref  string
		want string
	}{
		{"deployments.apps/prod/web", "exact - approximate - approximate approximate exact - unavailable unavailable exact gone"},
		{"secrets/prod/db", "exact approximate"},
		{"configmaps/prod/settings", "exact approximate gone"},
		{"configmaps/prod/other", "gone"},
		{"pods/tmp/job-1", "approximate - - gone"},
		{"rolebindings.rbac.authorization.k8s.io/prod/gina-view", "gone"},
		{"pods/prod/api", "exact"},
	} {
		ref, err := ParseRef(tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		reqs, err := Load(st, ref)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range Rebuild(ref, reqs) {
			got = append(got, stepLabel(s))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.ref, strings.Join(got, " "), tc.want)
		}
	}
}

func TestRebuildCases(t *testing.T) {
	obj := `{"kind":"ConfigMap","metadata":{"name":"x","finalizers":["f"]},"data":{"a":"1"}}`
	for _, tc := range []struct {
		name string
		reqs []Request
		want string
		last map[string]any // the last revision's object, when checked
	}{
		{"patch with response is exact", []Request{
			{Verb: "create", Code: 201, RequestObject: []byte(obj)},
			{Verb: "patch", Code: 200, RequestObject: []byte(`{"data":{"a":"2"}}`), ResponseObject: []byte(`{"kind":"ConfigMap","data":{"a":"2"}}`)},
		}, "approximate exact", map[string]any{"kind": "ConfigMap", "data": map[string]any{"a": "2"}}},
		{"merge patch for unknown kinds", []Request{
			{Verb: "create", Code: 201, Resource: "widgets", Group: "example.com", ResponseObject: []byte(`{"kind":"Widget","spec":{"l":[1,2]}}`)},
			{Verb: "patch", Code: 200, Resource: "widgets", Group: "example.com", RequestObject: []byte(`{"spec":{"l":[3]}}`)},
		}, "exact approximate", map[string]any{"kind": "Widget", "spec": map[string]any{"l": []any{jsonNumber("3")}}}},
		{"bad JSON patch is unavailable", []Request{
			{Verb: "create", Code: 201, ResponseObject: []byte(`{"kind":"ConfigMap"}`)},
			{Verb: "patch", Code: 200, RequestObject: []byte(`[{"op":"remove","path":"/nope"}]`)},
		}, "exact unavailable", nil},
		{"delete with finalizers keeps it", []Request{
			{Verb: "delete", Code: 200, ResponseObject: []byte(obj)},
			{Verb: "delete", Code: 200, ResponseObject: []byte(`{"kind":"Status","status":"Success"}`)},
		}, "exact gone", nil},
		{"eviction ends a pod", []Request{{Verb: "create", Subresource: "eviction", Code: 201}}, "gone", nil},
		{"denied and dry-run change nothing", []Request{
			{Verb: "delete", Code: 403},
			{Verb: "delete", Code: 200, URI: "/api/v1/namespaces/a/pods/b?dryRun=All"},
		}, "- -", nil},
		{"status update from the request", []Request{
			{Verb: "update", Subresource: "status", Code: 200, RequestObject: []byte(`{"kind":"Pod","status":{"phase":"Running"}}`)},
		}, "approximate", nil},
		{"scale without a base", []Request{
			{Verb: "update", Subresource: "scale", Code: 200, RequestObject: []byte(`{"kind":"Scale","spec":{"replicas":3}}`)},
		}, "unavailable", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps := Rebuild(Ref{Resource: "configmaps", Name: "x"}, tc.reqs)
			var got []string
			for _, s := range steps {
				got = append(got, stepLabel(s))
			}
			if strings.Join(got, " ") != tc.want {
				t.Fatalf("got %s, want %s", strings.Join(got, " "), tc.want)
			}
			if tc.last != nil {
				if r := steps[len(steps)-1].Revision; !reflect.DeepEqual(r.Object, tc.last) {
					t.Errorf("last revision %v, want %v", r.Object, tc.last)
				}
			}
		})
	}
}

// TestGolden pins the rendered timelines.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		file, ref, format string
		opt               Options
	}{
		{generated, "deployments.apps/prod/web", "table", Options{}},
		{generated, "deployments.apps/prod/web", "table-noise", Options{ShowNoise: true}},
		{generated, "deployments.apps/prod/web", "color", Options{Color: true}},
		{generated, "configmaps/prod/settings", "json", Options{}},
		{generated, "secrets/prod/db", "jsonl", Options{}},
		{generated, "pods/tmp/job-1", "table", Options{}},
		{generated, "pods/prod/api", "table", Options{}},
		{"../testdata/public/falco-trace-files-k8s_audit.jsonl", "services/default/nginx", "table", Options{}},
		{"../testdata/public/falco-trace-files-k8s_audit.jsonl", "clusterroles.rbac.authorization.k8s.io/system:node-problem-detector", "table", Options{}},
		{"../testdata/realcluster/rbac-workload.jsonl", "configmaps/dev-1/bob-notes-1", "table", Options{}},
		{"testdata/apply.jsonl", "configmaps/hist/applied", "table", Options{}},
	} {
		name := strings.NewReplacer("/", "_", ":", "_").Replace(filepath.Base(tc.file) + "-" + tc.ref + "." + tc.format)
		t.Run(name, func(t *testing.T) {
			ref, err := ParseRef(tc.ref)
			if err != nil {
				t.Fatal(err)
			}
			reqs, err := Load(loadStore(t, tc.file), ref)
			if err != nil {
				t.Fatal(err)
			}
			steps := Rebuild(ref, reqs)
			var b bytes.Buffer
			switch tc.format {
			case "json", "jsonl":
				err = WriteJSON(&b, ref, steps, tc.opt, tc.format == "jsonl")
			default:
				err = WriteTable(&b, ref, steps, tc.opt)
			}
			if err != nil {
				t.Fatal(err)
			}
			goldenfile.Check(t, filepath.Join("testdata", name+".golden"), b.Bytes())
		})
	}
}

func jsonNumber(s string) any { return json.Number(s) }

func TestRevokedBy(t *testing.T) {
	st := loadStore(t, generated)
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	allowed, denied := at("2026-03-01T10:00:23Z"), at("2026-03-01T10:00:25Z")
	// The binding's creation is not in the log: unverified.
	gina := Subject{User: "gina", Groups: []string{"system:authenticated"}}
	want := "RoleBinding prod/gina-view deleted by root at 2026-03-01T10:00:24Z (unverified: the log does not show whom it covered)"
	if got := RevokedBy(st, gina, "prod", allowed, denied); got != want {
		t.Errorf("RevokedBy = %q, want %q", got, want)
	}
	if got := RevokedBy(st, gina, "other", allowed, denied); got != "" {
		t.Errorf("another namespace: %q", got)
	}
	if got := RevokedBy(st, gina, "prod", denied, denied.Add(time.Hour)); got != "" {
		t.Errorf("after the change: %q", got)
	}
}

// TestServerSideApply: an apply is told from the request URI and body;
// the response makes it exact, a request body alone approximate with the
// reason; a kubectl patch with a field manager is no apply.
func TestServerSideApply(t *testing.T) {
	const uri = "/api/v1/namespaces/p/configmaps/x?fieldManager=ops&fieldValidation=Strict"
	applied := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"a":"2"}}`
	resp := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","managedFields":[{"manager":"ops","operation":"Apply"}]},"data":{"a":"2","b":"1"}}`
	created := Request{Verb: "create", Code: 201, ResponseObject: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"a":"1","b":"1"}}`)}
	for _, tc := range []struct {
		name      string
		reqs      []Request
		want      string
		note, not string
		data      map[string]any
	}{
		{"response: exact", []Request{created, {Verb: "patch", Code: 200, URI: uri, RequestObject: []byte(applied), ResponseObject: []byte(resp)}},
			"exact exact", "server-side apply by field manager ops", "guessed", map[string]any{"a": "2", "b": "1"}},
		{"request body merged onto the previous", []Request{created, {Verb: "patch", Code: 200, URI: uri, RequestObject: []byte(applied)}},
			"exact approximate", "approximate: the applied configuration merged onto the previous revision", "", map[string]any{"a": "2", "b": "1"}},
		{"apply creates it from the body", []Request{{Verb: "patch", Code: 201, URI: uri, RequestObject: []byte(applied)}},
			"approximate", "approximate: the applied configuration only", "", map[string]any{"a": "2"}},
		{"force marks an apply", []Request{created, {Verb: "patch", Code: 200, URI: "/x?fieldManager=ops&force=true", RequestObject: []byte(`{"data":{"a":"3"}}`)}},
			"exact approximate", "server-side apply by field manager ops", "", map[string]any{"a": "3", "b": "1"}},
		{"no Apply in managedFields", []Request{created, {Verb: "patch", Code: 200, URI: uri, RequestObject: []byte(applied), ResponseObject: []byte(strings.Replace(resp, `"Apply"`, `"Update"`, 1))}},
			"exact exact", "guessed from the request", "", nil},
		{"kubectl patch is no apply", []Request{created, {Verb: "patch", Code: 200, URI: "/x?fieldManager=kubectl-patch", RequestObject: []byte(`{"data":{"a":"3"}}`)}},
			"exact approximate", "strategic merge patch", "server-side apply", map[string]any{"a": "3", "b": "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.reqs {
				tc.reqs[i].Resource = "configmaps"
			}
			steps := Rebuild(Ref{Resource: "configmaps", Namespace: "p", Name: "x"}, tc.reqs)
			var got []string
			for _, s := range steps {
				got = append(got, stepLabel(s))
			}
			last := steps[len(steps)-1]
			if strings.Join(got, " ") != tc.want || !strings.Contains(last.Note, tc.note) || (tc.not != "" && strings.Contains(last.Note, tc.not)) {
				t.Fatalf("got %s (%q), want %s with %q", strings.Join(got, " "), last.Note, tc.want, tc.note)
			}
			if tc.data != nil && !reflect.DeepEqual(last.Revision.Object["data"], tc.data) {
				t.Errorf("data %v, want %v", last.Revision.Object["data"], tc.data)
			}
		})
	}
}

// TestMaybeDeleted: a deletecollection in the object's namespace whose
// items the log does not list (Metadata level) is a possible end, marked
// unavailable with where, who and its selector; one whose response lists
// other items, or that failed, is left out.
func TestMaybeDeleted(t *testing.T) {
	ev := func(id int, level, verb, uri, name string, code int, extra string) string {
		n := ""
		if name != "" {
			n = `,"name":"` + name + `"`
		}
		return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":%q,"auditID":"00000000-0000-0000-0000-%012d","stage":"ResponseComplete","requestURI":%q,"verb":%q,"user":{"username":"erin"},"objectRef":{"resource":"configmaps","namespace":"p","apiVersion":"v1"%s},"responseStatus":{"code":%d},"stageTimestamp":"2026-03-01T10:00:%02dZ"%s}`,
			level, id, uri, verb, n, code, id, extra) + "\n"
	}
	log := ev(1, "RequestResponse", "create", "/api/v1/namespaces/p/configmaps", "x", 201, `,"responseObject":{"kind":"ConfigMap","metadata":{"name":"x"}}`) +
		ev(2, "RequestResponse", "deletecollection", "/api/v1/namespaces/p/configmaps", "", 200, `,"responseObject":{"kind":"ConfigMapList","items":[{"metadata":{"name":"y"}}]}`) +
		ev(3, "Metadata", "deletecollection", "/api/v1/namespaces/p/configmaps", "", 403, "") +
		ev(4, "Metadata", "deletecollection", "/api/v1/namespaces/p/configmaps?labelSelector=app%3Dweb", "", 200, "")
	ref := Ref{Resource: "configmaps", Namespace: "p", Name: "x"}
	reqs, err := Load(storeOf(t, []byte(log)), ref)
	if err != nil {
		t.Fatal(err)
	}
	steps := Rebuild(ref, reqs)
	if len(steps) != 2 {
		t.Fatalf("%d steps, want the create and the Metadata-level deletecollection: %+v", len(steps), steps)
	}
	s := steps[1]
	want := "deletecollection in p by erin at Metadata level: items unknown (labelSelector app=web); it may have deleted this object"
	if !s.MaybeEnds || s.Ends || s.Revision != nil || s.Note != want || RevisionLabel(s) != "unavailable (maybe gone)" {
		t.Errorf("step %+v\nnote %q\nwant %q", s, s.Note, want)
	}
}

// TestRevokedSubjects: a binding change is named only when the binding's
// subjects before it (rebuilt from the log) cover the denied user, one of
// their groups or their service account; a role change only when such a
// binding bound the role; what the log holds no body of is "unverified".
func TestRevokedSubjects(t *testing.T) {
	n := 0
	ev := func(verb, resource, name string, body string) string {
		n++
		uri := "/apis/rbac.authorization.k8s.io/v1/namespaces/p/" + resource + "/" + name
		code, extra := 200, ""
		if verb == "create" {
			code, extra = 201, `,"responseObject":`+body
		}
		if verb == "patch" {
			extra = `,"requestObject":{"rules":[]}`
		}
		return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"00000000-0000-0000-0000-%012d","stage":"ResponseComplete","requestURI":%q,"verb":%q,"user":{"username":"root"},"objectRef":{"resource":%q,"namespace":"p","name":%q,"apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"},"responseStatus":{"code":%d},"stageTimestamp":"2026-03-01T10:00:%02dZ"%s}`,
			n, uri, verb, resource, name, code, n, extra) + "\n"
	}
	rb := func(name, role, subjects string) string {
		return `{"kind":"RoleBinding","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"` + name + `","namespace":"p"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"` + role + `"},"subjects":` + subjects + `}`
	}
	log := ev("create", "rolebindings", "rb-alice", rb("rb-alice", "viewer", `[{"kind":"User","name":"alice"}]`)) +
		ev("create", "rolebindings", "rb-team", rb("rb-team", "editor", `[{"kind":"User","name":"bob"},{"kind":"Group","name":"qa"}]`)) +
		ev("create", "rolebindings", "rb-ci", rb("rb-ci", "deployer", `[{"kind":"ServiceAccount","name":"ci"}]`)) +
		ev("patch", "roles", "viewer", "") + // 4: alice's role, while rb-alice binds it
		ev("delete", "rolebindings", "rb-team", "") + // 5
		ev("delete", "rolebindings", "rb-alice", "") + // 6
		ev("delete", "rolebindings", "rb-unknown", "") + // 7: never created in the log
		ev("delete", "rolebindings", "rb-ci", "") + // 8
		ev("patch", "roles", "viewer", "") // 9: rb-alice is gone by then
	st := storeOf(t, []byte(log))
	from, to := time.Date(2026, 3, 1, 10, 0, 3, 0, time.UTC), time.Date(2026, 3, 1, 10, 0, 59, 0, time.UTC)
	for _, tc := range []struct {
		name string
		who  Subject
		want []string
	}{
		{"user", Subject{User: "alice", Groups: []string{"system:authenticated"}},
			[]string{"RoleBinding p/rb-alice deleted", "Role p/viewer changed by root at 2026-03-01T10:00:04Z", "RoleBinding p/rb-unknown deleted by root at 2026-03-01T10:00:07Z (unverified"}},
		{"group", Subject{User: "carol", Groups: []string{"qa"}},
			[]string{"RoleBinding p/rb-team deleted", "RoleBinding p/rb-unknown deleted by root at 2026-03-01T10:00:07Z (unverified"}},
		{"service account", Subject{User: "system:serviceaccount:p:ci"},
			[]string{"RoleBinding p/rb-ci deleted", "RoleBinding p/rb-unknown deleted by root at 2026-03-01T10:00:07Z (unverified"}},
		{"the allow reason names it", Subject{User: "dan", AllowReason: `RBAC: allowed by RoleBinding "rb-unknown/p" of Role "x" to User "dan"`},
			[]string{"RoleBinding p/rb-unknown deleted by root at 2026-03-01T10:00:07Z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := RBACChangesBetween(st, tc.who, "p", from, to)
			var got []string
			for _, c := range cs {
				got = append(got, c.String())
			}
			ok := len(got) == len(tc.want)
			for i := 0; ok && i < len(got); i++ {
				ok = strings.HasPrefix(got[i], tc.want[i])
			}
			if tc.name == "the allow reason names it" && ok {
				ok = !strings.Contains(got[0], "unverified")
			}
			if !ok {
				t.Errorf("got\n  %s\nwant (prefixes)\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// TestLoadBusyObject: an object with more writes than parallelReads is
// read by several goroutines (run with -race); every write's URI is
// read, so dry runs change nothing, and a Metadata-level webhook
// annotation is still found.
func TestLoadBusyObject(t *testing.T) {
	var b strings.Builder
	n := parallelReads + 1000
	for i := range n {
		uri, extra := "/apis/coordination.k8s.io/v1/namespaces/k/leases/l", ""
		if i%100 == 7 {
			uri += "?dryRun=All"
		}
		if i == n-1 {
			extra = `,"mutation.webhook.admission.k8s.io/round_0_index_0":"{\"configuration\":\"c\",\"webhook\":\"w\",\"mutated\":true}"`
		}
		fmt.Fprintf(&b, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"00000000-0000-0000-0000-%012d","stage":"ResponseComplete","requestURI":%q,"verb":"update","user":{"username":"kcm"},"objectRef":{"resource":"leases","namespace":"k","name":"l","apiGroup":"coordination.k8s.io","apiVersion":"v1"},"responseStatus":{"code":200},"stageTimestamp":"2026-03-01T10:%02d:%02d.%06dZ","annotations":{"authorization.k8s.io/decision":"allow"%s}}`+"\n",
			i, uri, i/60000, i/1000%60, i%1000, extra)
	}
	ref := Ref{Group: "coordination.k8s.io", Resource: "leases", Namespace: "k", Name: "l"}
	reqs, err := Load(storeOf(t, []byte(b.String())), ref)
	if err != nil {
		t.Fatal(err)
	}
	steps := Rebuild(ref, reqs)
	dry, revs := 0, 0
	for _, s := range steps {
		if s.DryRun {
			dry++
		}
		if s.Revision != nil {
			revs++
		}
	}
	wantDry := (n-8)/100 + 1
	if len(steps) != n || dry != wantDry || revs != n-wantDry {
		t.Errorf("%d steps, %d dry runs, %d revisions; want %d, %d, %d", len(steps), dry, revs, n, wantDry, n-wantDry)
	}
	if last := steps[len(steps)-1]; !strings.Contains(last.Note, "webhook w (configuration c) mutated it") {
		t.Errorf("last note %q: the webhook annotation was not read", last.Note)
	}
}

func TestRequestURI(t *testing.T) {
	for in, want := range map[string]string{
		`{"kind":"Event","requestURI":"/api/v1/x?dryRun=All","verb":"update"}`: "/api/v1/x?dryRun=All",
		`{"requestURI": "/a?b=1\u0026dryRun=All"}`:                             "/a?b=1&dryRun=All",
		`{"requestURI":"/a\"b"}`:                                               `/a"b`,
		`{"requestURI":"/unterminated`:                                         "",
		`{"xrequestURI":"/a"}`:                                                 "",
		`{"requestURI":12}`:                                                    "",
		`questURI":"/a"`:                                                       "",
		`{"verb":"get"}`:                                                       "",
	} {
		if got := requestURI([]byte(in)); got != want {
			t.Errorf("requestURI(%s) = %q, want %q", in, got, want)
		}
	}
}

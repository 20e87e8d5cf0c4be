package rbac

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// readBack parses kaudit's YAML stream the way kubectl does (document by
// document, strictly, into the rbacv1 types).
func readBack(t testing.TB, data []byte) []any {
	t.Helper()
	var objs []any
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("reading YAML: %v\n%s", err, data)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue // the header alone, when there are no objects
		}
		objs = append(objs, decode(t, doc, yaml.UnmarshalStrict))
	}
}

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for l := range bytes.Lines(doc) {
		if !bytes.HasPrefix(l, []byte("#")) {
			b.Write(l)
		}
	}
	return b.Bytes()
}

func decode(t testing.TB, doc []byte, unmarshal func([]byte, any, ...yaml.JSONOpt) error) any {
	t.Helper()
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	if tm.APIVersion != "rbac.authorization.k8s.io/v1" {
		t.Fatalf("apiVersion %q\n%s", tm.APIVersion, doc)
	}
	var obj any
	switch tm.Kind {
	case "Role":
		obj = &rbacv1.Role{}
	case "ClusterRole":
		obj = &rbacv1.ClusterRole{}
	case "RoleBinding":
		obj = &rbacv1.RoleBinding{}
	case "ClusterRoleBinding":
		obj = &rbacv1.ClusterRoleBinding{}
	default:
		t.Fatalf("kind %q\n%s", tm.Kind, doc)
	}
	if err := unmarshal(doc, obj); err != nil {
		t.Fatalf("%s: %v\n%s", tm.Kind, err, doc)
	}
	return obj
}

// allows is a small RBAC authorizer over the parsed objects, written from
// the Kubernetes RBAC documentation, independent of Suggest: some binding
// of the request's subject (a RoleBinding only in the request's namespace)
// refers to a role with a rule matching verb, group, resource/subresource
// and name, or the non-resource URL.
func allows(objs []any, r Request) bool {
	roles := map[string][]rbacv1.PolicyRule{} // "Kind ns/name"
	for _, o := range objs {
		switch o := o.(type) {
		case *rbacv1.Role:
			roles["Role "+o.Namespace+"/"+o.Name] = o.Rules
		case *rbacv1.ClusterRole:
			roles["ClusterRole /"+o.Name] = o.Rules
		}
	}
	for _, o := range objs {
		var subs []rbacv1.Subject
		var ref rbacv1.RoleRef
		var ns string
		switch o := o.(type) {
		case *rbacv1.RoleBinding:
			subs, ref, ns = o.Subjects, o.RoleRef, o.Namespace
			if r.Namespace != ns || r.NonResource() {
				continue
			}
		case *rbacv1.ClusterRoleBinding:
			subs, ref = o.Subjects, o.RoleRef
		default:
			continue
		}
		if !slices.ContainsFunc(subs, func(s rbacv1.Subject) bool { return subjectIs(s, r.Subject) }) {
			continue
		}
		roleNS := ""
		if ref.Kind == "Role" {
			roleNS = ns
		}
		if slices.ContainsFunc(roles[ref.Kind+" "+roleNS+"/"+ref.Name], func(p rbacv1.PolicyRule) bool { return ruleAllows(p, r) }) {
			return true
		}
	}
	return false
}

func subjectIs(s rbacv1.Subject, user string) bool {
	switch s.Kind {
	case rbacv1.UserKind:
		return s.APIGroup == rbacv1.GroupName && s.Name == user
	case rbacv1.ServiceAccountKind:
		return s.APIGroup == "" && user == "system:serviceaccount:"+s.Namespace+":"+s.Name
	}
	return false
}

func ruleAllows(p rbacv1.PolicyRule, r Request) bool {
	if !slices.Contains(p.Verbs, r.Verb) {
		return false
	}
	if r.NonResource() {
		return slices.Contains(p.NonResourceURLs, r.Path)
	}
	res := r.Resource
	if r.Subresource != "" {
		res += "/" + r.Subresource
	}
	name := r.Name
	if r.Verb == "create" && r.Subresource == "" {
		name = "" // the authorizer does not see the name of an object being created
	}
	return slices.Contains(p.APIGroups, r.APIGroup) && slices.Contains(p.Resources, res) &&
		(len(p.ResourceNames) == 0 || slices.Contains(p.ResourceNames, name))
}

// TestYAMLReadsBack: the YAML kaudit writes for every fixture parses back,
// strictly, into rbacv1 objects that grant every covered denial, and
// nothing to anybody else; the JSON List holds the same objects; every
// object's warnings are in its annotation and in comments.
func TestYAMLReadsBack(t *testing.T) {
	covered := 0
	for name, path := range fixtures {
		a := load(t, path)
		for _, opt := range []Options{{}, {IncludeRisky: true}, {NoResourceNames: true, IncludeRisky: true}} {
			s := Suggest(a.Denials, opt)
			var y, j bytes.Buffer
			if err := s.WriteYAML(&y); err != nil {
				t.Fatal(err)
			}
			if err := s.WriteJSON(&j); err != nil {
				t.Fatal(err)
			}
			objs := readBack(t, y.Bytes())
			if len(objs) != len(s.Objects) {
				t.Fatalf("%s: %d objects read back, want %d", name, len(objs), len(s.Objects))
			}
			for _, d := range s.Covered {
				covered++
				if !allows(objs, d.Request) {
					t.Errorf("%s %+v: the YAML does not allow %+v", name, opt, d.Request)
				}
				other := d.Request
				other.Subject = "someone-else"
				if allows(objs, other) {
					t.Errorf("%s %+v: the YAML allows %+v", name, opt, other)
				}
			}
			for i, o := range s.Objects {
				meta := reflect.ValueOf(objs[i]).Elem().FieldByName("ObjectMeta").Interface().(metav1.ObjectMeta)
				if meta.Name != o.Name || meta.Namespace != o.Namespace || meta.Annotations[warningsKey] != strings.Join(o.Warnings, "\n") {
					t.Errorf("%s: object %d reads back as %s/%s %q", name, i, meta.Namespace, meta.Name, meta.Annotations)
				}
				for _, w := range o.Warnings {
					if !bytes.Contains(y.Bytes(), []byte("# WARNING: "+w+"\n")) {
						t.Errorf("%s: no comment for warning %q", name, w)
					}
				}
			}
			var list struct {
				APIVersion, Kind string
				Items            []json.RawMessage
			}
			if err := json.Unmarshal(j.Bytes(), &list); err != nil || list.Kind != "List" || list.APIVersion != "v1" {
				t.Fatalf("%s: JSON list %v %q %q", name, err, list.APIVersion, list.Kind)
			}
			var fromJSON []any
			for _, it := range list.Items {
				fromJSON = append(fromJSON, decode(t, it, yaml.UnmarshalStrict))
			}
			if len(objs) > 0 && !reflect.DeepEqual(fromJSON, objs) {
				t.Errorf("%s: JSON and YAML hold different objects", name)
			}
		}
	}
	if covered < 20 {
		t.Errorf("only %d covered denials checked; the fixtures should give more", covered)
	}
}

// FuzzYAML: whatever a client put in a name, namespace, resource or
// warning, the YAML reads back strictly as the same objects.
func FuzzYAML(f *testing.F) {
	for _, s := range []string{"", "alice", `a"b`, "a\nb: c", "\x1b[31m", "#x", "- y", "\u2028", "kaudit:\\", "---", "...", "yes", "0x1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // not a string JSON or YAML carries unchanged
		}
		role := Object{Kind: "Role", Name: "kaudit:" + s, Namespace: s, Warnings: []string{s},
			Rules: []Rule{{APIGroups: []string{s}, Resources: []string{s}, ResourceNames: []string{s}, Verbs: []string{"get"}}}}
		bind := Object{Kind: "ClusterRoleBinding", Name: s, Subject: SubjectRef{Kind: "User", Name: s}, RoleKind: "ClusterRole", RoleName: s}
		sg := &Suggestion{Objects: []Object{role, bind}, Warnings: []string{s}, Skipped: []string{s}}
		var y bytes.Buffer
		if err := sg.WriteYAML(&y); err != nil {
			t.Fatal(err)
		}
		objs := readBack(t, y.Bytes())
		want := []any{role.k8s(), bind.k8s()}
		if !reflect.DeepEqual(objs, want) {
			t.Fatalf("%q reads back as\n%#v\nwant\n%#v\n%s", s, objs, want, y.Bytes())
		}
	})
}

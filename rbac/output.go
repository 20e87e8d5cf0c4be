package rbac

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v2"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kaudit/kaudit/termsafe"
)

const (
	warningsKey     = "kaudit.io/warnings"
	managedByLabel  = "app.kubernetes.io/managed-by"
	managedByKaudit = "kaudit"
)

// WriteYAML writes the suggestion as a multi-document YAML stream that
// kubectl apply -f accepts: rbacv1 objects, marshalled by a YAML library
// (see marshalYAML), so no value can change the structure. A comment header sums it up and repeats every
// warning and every skipped denial; each object's warnings are also
// comments right above it and its kaudit.io/warnings annotation.
func (s *Suggestion) WriteYAML(w io.Writer) error {
	var b bytes.Buffer
	s.writeHeader(&b)
	for i, o := range s.Objects {
		if i > 0 {
			b.WriteString("---\n")
		}
		for _, warn := range o.Warnings {
			comment(&b, "WARNING: "+warn)
		}
		doc, err := reviewableYAML(o.k8s())
		if err != nil {
			return err
		}
		b.Write(doc)
	}
	s.writeWithheld(&b)
	_, err := w.Write(b.Bytes())
	return err
}

// marshalYAML writes obj as kubectl does (its JSON field names, keys
// sorted, through go-yaml v2), but without sigs.k8s.io/yaml.Marshal's
// step that re-reads the JSON with the YAML parser: that parser refuses
// raw control characters (a DEL in a user name), which go-yaml's emitter
// writes as escapes instead.
func marshalYAML(obj any) ([]byte, error) {
	j, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(j, &v); err != nil {
		return nil, err
	}
	return yaml.Marshal(v)
}

// k8s builds the rbacv1 object o stands for (*rbacv1.Role, ClusterRole,
// RoleBinding or ClusterRoleBinding), with its type set.
func (o Object) k8s() any {
	meta := metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, Labels: map[string]string{managedByLabel: managedByKaudit}}
	if len(o.Warnings) > 0 {
		meta.Annotations = map[string]string{warningsKey: strings.Join(o.Warnings, "\n")}
	}
	typ := metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: o.Kind}
	if o.RoleKind == "" {
		rules := make([]rbacv1.PolicyRule, len(o.Rules))
		for i, r := range o.Rules {
			rules[i] = rbacv1.PolicyRule{APIGroups: r.APIGroups, Resources: r.Resources, ResourceNames: r.ResourceNames,
				NonResourceURLs: r.NonResourceURLs, Verbs: r.Verbs}
		}
		if o.Kind == "ClusterRole" {
			return &rbacv1.ClusterRole{TypeMeta: typ, ObjectMeta: meta, Rules: rules}
		}
		return &rbacv1.Role{TypeMeta: typ, ObjectMeta: meta, Rules: rules}
	}
	sub := rbacv1.Subject{Kind: o.Subject.Kind, Name: o.Subject.Name, Namespace: o.Subject.Namespace}
	if sub.Kind == rbacv1.UserKind {
		sub.APIGroup = rbacv1.GroupName
	}
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: o.RoleKind, Name: o.RoleName}
	if o.Kind == "ClusterRoleBinding" {
		return &rbacv1.ClusterRoleBinding{TypeMeta: typ, ObjectMeta: meta, Subjects: []rbacv1.Subject{sub}, RoleRef: ref}
	}
	return &rbacv1.RoleBinding{TypeMeta: typ, ObjectMeta: meta, Subjects: []rbacv1.Subject{sub}, RoleRef: ref}
}

func (s *Suggestion) writeHeader(b *bytes.Buffer) {
	comment(b, fmt.Sprintf("kaudit rbac: %d objects granting %d permissions, for %d denied requests. Review, check with kubectl apply --dry-run=server -f FILE, then apply",
		len(s.Objects), s.Permissions(), len(s.Covered)))
	if len(s.Warnings) > 0 {
		comment(b, fmt.Sprintf("WARNINGS (%d):", len(s.Warnings)))
		for _, w := range s.Warnings {
			comment(b, "  WARNING: "+w)
		}
	}
	if len(s.Skipped) > 0 {
		comment(b, fmt.Sprintf("Denials not covered (%d):", len(s.Skipped)))
		for _, sk := range s.Skipped {
			comment(b, "  "+sk)
		}
	}
	if len(s.Objects) > 0 {
		b.WriteString("\n")
	}
}

// comment writes one YAML comment line; Printable keeps newlines and
// terminal escapes out of it.
func comment(b *bytes.Buffer, s string) {
	b.WriteString("# ")
	b.WriteString(termsafe.Printable(s))
	b.WriteByte('\n')
}

// list is the JSON form: a v1 List, which kubectl apply -f also accepts.
type list struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Items      []any  `json:"items"`
}

// WriteJSON writes the suggestion as one v1 List document (indented), for
// kubectl apply -f or for scripts. Warnings are in each object's
// kaudit.io/warnings annotation.
func (s *Suggestion) WriteJSON(w io.Writer) error {
	l := list{APIVersion: "v1", Kind: "List", Items: []any{}}
	for _, o := range s.Objects {
		l.Items = append(l.Items, o.k8s())
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(l)
}

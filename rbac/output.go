package rbac

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/kaudit/kaudit/termsafe"
)

const (
	rbacAPIVersion  = "rbac.authorization.k8s.io/v1"
	rbacGroup       = "rbac.authorization.k8s.io"
	warningsKey     = "kaudit.io/warnings"
	managedByLabel  = "app.kubernetes.io/managed-by"
	managedByKaudit = "kaudit"
)

// WriteYAML writes the suggestion as a multi-document YAML stream that
// kubectl apply -f accepts. A comment header sums it up and repeats every
// warning and every skipped denial; each object's warnings are also
// comments right above it and its kaudit.io/warnings annotation. Every
// string is double-quoted, so no value can change the structure.
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
		fmt.Fprintf(&b, "apiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n", rbacAPIVersion, o.Kind, q(o.Name))
		if o.Namespace != "" {
			fmt.Fprintf(&b, "  namespace: %s\n", q(o.Namespace))
		}
		fmt.Fprintf(&b, "  labels:\n    %s: %s\n", managedByLabel, managedByKaudit)
		if len(o.Warnings) > 0 {
			fmt.Fprintf(&b, "  annotations:\n    %s: %s\n", warningsKey, q(strings.Join(o.Warnings, "\n")))
		}
		if o.RoleKind == "" {
			b.WriteString("rules:\n")
			for _, r := range o.Rules {
				prefix := "- "
				for _, f := range []struct {
					key  string
					list []string
				}{{"apiGroups", r.APIGroups}, {"resources", r.Resources}, {"resourceNames", r.ResourceNames}, {"nonResourceURLs", r.NonResourceURLs}, {"verbs", r.Verbs}} {
					if f.list == nil {
						continue
					}
					fmt.Fprintf(&b, "%s%s: %s\n", prefix, f.key, qList(f.list))
					prefix = "  "
				}
			}
			continue
		}
		fmt.Fprintf(&b, "subjects:\n- kind: %s\n", o.Subject.Kind)
		if o.Subject.Kind == "User" {
			fmt.Fprintf(&b, "  apiGroup: %s\n", rbacGroup)
		}
		fmt.Fprintf(&b, "  name: %s\n", q(o.Subject.Name))
		if o.Subject.Namespace != "" {
			fmt.Fprintf(&b, "  namespace: %s\n", q(o.Subject.Namespace))
		}
		fmt.Fprintf(&b, "roleRef:\n  apiGroup: %s\n  kind: %s\n  name: %s\n", rbacGroup, o.RoleKind, q(o.RoleName))
	}
	s.writeWithheld(&b)
	_, err := w.Write(b.Bytes())
	return err
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

// q quotes s as a JSON string, which is also a YAML double-quoted scalar.
func q(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func qList(list []string) string {
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = q(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// The JSON form: a v1 List, which kubectl apply -f also accepts.
type (
	jsonList struct {
		APIVersion string       `json:"apiVersion"`
		Kind       string       `json:"kind"`
		Items      []jsonObject `json:"items"`
	}
	jsonObject struct {
		APIVersion string        `json:"apiVersion"`
		Kind       string        `json:"kind"`
		Metadata   jsonMeta      `json:"metadata"`
		Rules      *[]jsonRule   `json:"rules,omitempty"`
		Subjects   []jsonSubject `json:"subjects,omitempty"`
		RoleRef    *jsonRoleRef  `json:"roleRef,omitempty"`
	}
	jsonMeta struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace,omitempty"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	jsonRule struct {
		APIGroups       []string `json:"apiGroups,omitempty"`
		Resources       []string `json:"resources,omitempty"`
		ResourceNames   []string `json:"resourceNames,omitempty"`
		NonResourceURLs []string `json:"nonResourceURLs,omitempty"`
		Verbs           []string `json:"verbs"`
	}
	jsonSubject struct {
		Kind      string `json:"kind"`
		APIGroup  string `json:"apiGroup,omitempty"`
		Name      string `json:"name"`
		Namespace string `json:"namespace,omitempty"`
	}
	jsonRoleRef struct {
		APIGroup string `json:"apiGroup"`
		Kind     string `json:"kind"`
		Name     string `json:"name"`
	}
)

// WriteJSON writes the suggestion as one v1 List document (indented), for
// kubectl apply -f or for scripts. Warnings are in each object's
// kaudit.io/warnings annotation.
func (s *Suggestion) WriteJSON(w io.Writer) error {
	list := jsonList{APIVersion: "v1", Kind: "List", Items: []jsonObject{}}
	for _, o := range s.Objects {
		jo := jsonObject{APIVersion: rbacAPIVersion, Kind: o.Kind, Metadata: jsonMeta{
			Name: o.Name, Namespace: o.Namespace, Labels: map[string]string{managedByLabel: managedByKaudit},
		}}
		if len(o.Warnings) > 0 {
			jo.Metadata.Annotations = map[string]string{warningsKey: strings.Join(o.Warnings, "\n")}
		}
		if o.RoleKind == "" {
			rules := make([]jsonRule, len(o.Rules))
			for i, r := range o.Rules {
				rules[i] = jsonRule{r.APIGroups, r.Resources, r.ResourceNames, r.NonResourceURLs, r.Verbs}
			}
			jo.Rules = &rules
		} else {
			sub := jsonSubject{Kind: o.Subject.Kind, Name: o.Subject.Name, Namespace: o.Subject.Namespace}
			if sub.Kind == "User" {
				sub.APIGroup = rbacGroup
			}
			jo.Subjects = []jsonSubject{sub}
			jo.RoleRef = &jsonRoleRef{APIGroup: rbacGroup, Kind: o.RoleKind, Name: o.RoleName}
		}
		list.Items = append(list.Items, jo)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(list)
}
